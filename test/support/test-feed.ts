import { MongoClient } from "mongodb";
import { loadConfig } from "../../src/config.ts";
import { startFeedServer, type RunningFeedServer } from "../../src/feed-server.ts";
import { createLogger } from "../../src/logger.ts";
import { connectToMongo } from "../../src/mongo-connect.ts";

export type LogEntry = { level: string; msg: string; [key: string]: unknown };

/** A feed server running in this process on a free port. */
export type TestFeed = AsyncDisposable & {
  http: string;
  ws: string;
  feed: RunningFeedServer["feed"];
  /** Every log line the server wrote (info and above unless LOG_LEVEL says otherwise); printed only when FEED_TEST_LOGS is set. */
  logs: LogEntry[];
  /** Resolves with the first log line (past or future) matching `predicate`. */
  waitForLog(predicate: (line: LogEntry) => boolean, timeoutMs?: number): Promise<LogEntry>;
  close(): Promise<void>;
};

/** Starts the real server (same wiring as the entry point) with settings as environment variables. */
export async function startTestFeed(mongodbUri: string, env: Record<string, string> = {}): Promise<TestFeed> {
  const request = loadConfig({ PORT: "0", HOST: "127.0.0.1", MONGODB_URI: mongodbUri, LOG_LEVEL: "info", ...env }, []);
  if (request.kind !== "run") throw new Error("unexpected config request");
  const client = await connectToMongo(request.config);
  const shutdown = new AbortController();
  const logs: LogEntry[] = [];
  const watchers = new Set<(line: LogEntry) => void>();
  const log = createLogger(request.config.logLevel, (line) => {
    const entry = JSON.parse(line) as LogEntry;
    logs.push(entry);
    for (const watcher of watchers) watcher(entry);
    if (process.env.FEED_TEST_LOGS) process.stdout.write(line);
  });
  const waitForLog = (predicate: (line: LogEntry) => boolean, timeoutMs = 15_000) => {
    const seen = logs.find(predicate);
    if (seen) return Promise.resolve(seen);
    const { promise, resolve, reject } = Promise.withResolvers<LogEntry>();
    const timer = setTimeout(() => (watchers.delete(watch), reject(new Error("timed out waiting for a log line"))), timeoutMs);
    const watch = (line: LogEntry) => {
      if (!predicate(line)) return;
      clearTimeout(timer);
      watchers.delete(watch);
      resolve(line);
    };
    watchers.add(watch);
    return promise;
  };
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
    waitForLog,
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
