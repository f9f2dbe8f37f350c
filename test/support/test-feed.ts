import { MongoClient } from "mongodb";
import { loadConfig } from "../../src/config.ts";
import { startFeedServer, type RunningFeedServer } from "../../src/feed-server.ts";
import { createLogger } from "../../src/logger.ts";
import { connectToMongo } from "../../src/mongo-connect.ts";

/** A feed server running in this process on a free port. */
export type TestFeed = AsyncDisposable & {
  http: string;
  ws: string;
  feed: RunningFeedServer["feed"];
  /** Every log line the server wrote (warn and above unless LOG_LEVEL says otherwise); printed only when LOG_LEVEL is set. */
  logs: { level: string; msg: string; [key: string]: unknown }[];
  close(): Promise<void>;
};

/** Starts the real server (same wiring as the entry point) with settings as environment variables. */
export async function startTestFeed(mongodbUri: string, env: Record<string, string> = {}): Promise<TestFeed> {
  const request = loadConfig({ PORT: "0", HOST: "127.0.0.1", MONGODB_URI: mongodbUri, LOG_LEVEL: "warn", ...env }, []);
  if (request.kind !== "run") throw new Error("unexpected config request");
  const client = await connectToMongo(request.config);
  const shutdown = new AbortController();
  const logs: TestFeed["logs"] = [];
  const log = createLogger(request.config.logLevel, (line) => {
    logs.push(JSON.parse(line));
    if (env.LOG_LEVEL) process.stdout.write(line);
  });
  const running = await startFeedServer({ config: request.config, client, log, signal: shutdown.signal });
  const close = async () => {
    if (shutdown.signal.aborted) return;
    shutdown.abort();
    await running.closed;
    await client.close();
  };
  return {
    http: running.url.href.replace(/\/$/, ""),
    ws: `ws://${running.url.host}/`,
    feed: running.feed,
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
