import type { MongoClient } from "mongodb";
import { ConfigError, type ConfigRequest, loadConfig } from "./config/config.ts";
import { readHostLimits } from "./config/host-limits.ts";
import { logObservations } from "./observability/log-observations.ts";
import { createLogger } from "./observability/logger.ts";
import { connectToMongo, explainStartupFailure } from "./mongo/connect.ts";
import { Observations } from "./observability/observations.ts";
import { startFeedServer } from "./server.ts";
import packageJson from "../package.json" with { type: "json" };

// The entry point: the only file with side effects. Everything else is built from arguments.
const SHUTDOWN_DEADLINE_MS = 5_000;

let request: ConfigRequest;
try {
  request = loadConfig(process.env, Bun.argv.slice(2), readHostLimits());
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`mongo-feed: ${error.message}\nRun with --help to see every setting.`);
  process.exit(2);
}
if (request.kind === "help") {
  console.log(request.text);
  process.exit(0);
}
if (request.kind === "version") {
  console.log(packageJson.version);
  process.exit(0);
}

if (request.kind === "health-check") {
  // Loopback: the server listens on HOST, which is often 0.0.0.0 inside a container.
  const live = await fetch(`http://127.0.0.1:${request.config.port}/health/live`, { signal: AbortSignal.timeout(2_000) }).then(
    (response) => response.ok,
    () => false,
  );
  process.exit(live ? 0 : 1);
}

const { config } = request;
const launch = Bun.isStandaloneExecutable ? "compiled" : "source";
const log = createLogger(config.logLevel);
const observations = new Observations();
logObservations(observations, log);
// A bug must not take every client down with it, nor print a raw stack: one error line, and on.
process.on("unhandledRejection", (error) => observations.emit({ type: "unhandled-rejection", error }));
process.on("uncaughtException", (error) => observations.emit({ type: "uncaught-exception", error }));
const shutdown = new AbortController();
let listening = false;

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (shutdown.signal.aborted || !listening) {
      log.warn("exiting now", { signal });
      process.exit(shutdown.signal.aborted ? 1 : 0);
    }
    observations.emit({ type: "signal-received", signal });
    shutdown.abort();
    setTimeout(() => {
      log.error(`shutdown took longer than ${SHUTDOWN_DEADLINE_MS} ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
  });
}

let client: MongoClient;
try {
  client = await connectToMongo(config, launch);
} catch (error) {
  console.error(`mongo-feed: ${(error as Error).message}`);
  process.exit(1);
}

try {
  const server = await startFeedServer({ config, client, log, observations, signal: shutdown.signal });
  listening = true;
  await server.closed;
} catch (error) {
  console.error(`mongo-feed: ${explainStartupFailure(error, config, launch).message}`);
  await client.close().catch(() => {});
  process.exit(1);
}
await client.close();
process.exit(0);
