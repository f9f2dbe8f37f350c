import { MongoClient } from "mongodb";
import { loadConfig } from "../../src/config/config.ts";
import { readHostLimits } from "../../src/config/host-limits.ts";
import { logObservations } from "../../src/observability/log-observations.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { connectToMongo } from "../../src/mongo/connect.ts";
import { Observations } from "../../src/observability/observations.ts";
import { startFeedServer } from "../../src/server.ts";
import { Observed } from "./observed.ts";

export type LogEntry = { level: string; msg: string; event?: string; [key: string]: unknown };

/** A feed server running in this process on a free port. */
export type TestFeed = AsyncDisposable & {
  http: string;
  ws: string;
  /** Everything the server observed about itself (stream up/down, resyncs, sockets...), awaitable. */
  observed: Observed;
  /** Every log line the server wrote (info and above unless LOG_LEVEL says otherwise); printed only when FEED_TEST_LOGS is set. */
  logs: LogEntry[];
  close(): Promise<void>;
};

/** Starts the real server (same wiring as the entry point) with settings as environment variables. */
export async function startTestFeed(mongodbUri: string, env: Record<string, string> = {}): Promise<TestFeed> {
  const request = loadConfig({ PORT: "0", HOST: "127.0.0.1", MONGODB_URI: mongodbUri, LOG_LEVEL: "info", ...env }, [], readHostLimits());
  if (request.kind !== "run") throw new Error("unexpected config request");
  const client = await connectToMongo(request.config, "source");
  const shutdown = new AbortController();
  const logs: LogEntry[] = [];
  const log = createLogger(request.config.logLevel, (line) => {
    logs.push(JSON.parse(line) as LogEntry);
    if (process.env.FEED_TEST_LOGS) process.stdout.write(line);
  });
  const observations = new Observations();
  const observed = new Observed();
  observations.subscribe(observed.record);
  logObservations(observations, log);
  const running = await startFeedServer({ config: request.config, client, log, observations, signal: shutdown.signal });
  const close = async () => {
    if (shutdown.signal.aborted) return;
    shutdown.abort();
    await running.closed;
    await client.close();
  };
  return {
    http: running.url.href.replace(/\/$/, ""),
    ws: `ws://${running.url.host}/`,
    observed,
    logs,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A plain driver client, as a script or the mongo shell would write. */
export async function connectDriver(uri: string): Promise<MongoClient & AsyncDisposable> {
  const client = await new MongoClient(uri, { appName: "feed-tests" }).connect();
  return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() });
}

export async function postJson(http: string, body: unknown): Promise<Response> {
  return fetch(`${http}/posts`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}
