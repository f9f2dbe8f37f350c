import { ServerProcess } from "../support/server-process.ts";
import { LoadRig, type MeasuredPids } from "./load/load-rig.ts";
import type { WriterSpec } from "./load/protocol.ts";

/** The servers `bun run bench` compares, all measured in the same run on the same emulator. */
export type ContenderKey = "feed" | "feedSse" | "feedNoGroupCommit" | "node" | "ceiling";

export const CONTENDERS: Record<ContenderKey, { label: string; usesDatabase: boolean }> = {
  feed: { label: "mongo-feed", usesDatabase: true },
  /** The same server, its clients reading GET /feed as Server-Sent Events. */
  feedSse: { label: "mongo-feed over SSE", usesDatabase: true },
  feedNoGroupCommit: { label: "mongo-feed, group commit off", usesDatabase: true },
  node: { label: "Node reference", usesDatabase: true },
  ceiling: { label: "bare Bun ceiling", usesDatabase: false },
};

export type Emulator = { uri: string; pid: number };

/** A contender started for one measurement: its process, its URLs, a load process, and how writes reach it. */
export type Running = {
  key: ContenderKey;
  server: ServerProcess;
  http: string;
  ws: string;
  /** Where its clients connect: the WebSocket, or GET /feed (SSE) for `feedSse`. */
  feedUrl: string;
  load: LoadRig;
  pids: MeasuredPids;
  /** POSTs to the server. */
  postWriter: WriterSpec;
  /** Inserts straight into its database (the ceiling has none: it gets POSTs at the same pace). */
  directWriter: WriterSpec;
};

const databaseUri = (emulator: Emulator, name: string) => emulator.uri.replace("/?", `/${name}?`);

/**
 * Every bench client connects from the one loopback address, so the per-address WebSocket
 * cap (a defence against one client, 1,000 by default) is raised above the 10,000 idle
 * sockets; the other contenders have no such cap.
 */
const FEED_BENCH_ENV = { LOG_LEVEL: "info", WS_MAX_CONNECTIONS_PER_IP: "20000" };

/** `feedSettings`: more settings for this server (as environment variables); the others have none. */
function spawn(key: ContenderKey, uri: string, feedSettings: Record<string, string>): ServerProcess {
  const profile = process.env.BENCH_PROFILE;
  const feed = profile ? ["bun", "--cpu-prof-md", `--cpu-prof-dir=${profile}`, "src/index.ts"] : ["bun", "src/index.ts"];
  switch (key) {
    case "feed":
    case "feedSse":
      return ServerProcess.spawn({ MONGODB_URI: uri, ...FEED_BENCH_ENV, ...feedSettings }, feed);
    case "feedNoGroupCommit":
      return ServerProcess.spawn({ MONGODB_URI: uri, ...FEED_BENCH_ENV, ...feedSettings, POST_GROUP_COMMIT: "false" }, feed);
    case "node":
      return ServerProcess.spawn({ MONGODB_URI: uri }, ["node", "test/bench/node-reference/server.mjs"]);
    case "ceiling":
      return ServerProcess.spawn({}, ["bun", "test/bench/publish-baseline-fixture.ts"]);
  }
}

const STOP_GRACE_MS = 10_000;
const live = new Set<ServerProcess>();

/** Kills every contender still running (the bench's deadline). */
export function killContenders(): void {
  for (const server of live) server.kill("SIGKILL");
}

/** Starts `key` on its own database `database`, runs `measure`, and stops everything whatever happens. */
export async function withContender<T>(
  key: ContenderKey,
  emulator: Emulator,
  database: string,
  measure: (running: Running) => Promise<T>,
  feedSettings: Record<string, string> = {},
): Promise<T> {
  const uri = databaseUri(emulator, database);
  const server = spawn(key, uri, feedSettings);
  live.add(server);
  try {
    const { http, ws } = await server.listening(30_000);
    await using load = new LoadRig();
    const postWriter: WriterSpec = { kind: "post", url: http };
    return await measure({
      key,
      server,
      http,
      ws,
      feedUrl: key === "feedSse" ? `${http.replace(/\/$/, "")}/feed` : ws,
      load,
      pids: CONTENDERS[key].usesDatabase ? { server: server.process.pid, emulator: emulator.pid } : { server: server.process.pid },
      postWriter,
      directWriter: CONTENDERS[key].usesDatabase ? { kind: "insert", uri } : postWriter,
    });
  } finally {
    server.kill("SIGTERM");
    const timer = setTimeout(() => server.kill("SIGKILL"), STOP_GRACE_MS);
    await server.exited;
    clearTimeout(timer);
    live.delete(server);
  }
}
