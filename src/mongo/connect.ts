import { MongoClient, MongoServerError, MongoServerSelectionError } from "mongodb";
import type { Config } from "../config/config.ts";
import { redactSecrets, redactUri } from "./redact-uri.ts";

/** Startup cannot go on; the message says what was tried and what to do. */
export class StartupError extends Error {}

const CHANGE_STREAMS_NEED_REPLICA_SET = 40573;

export { redactUri };

/**
 * How this process was started, so advice fits where it runs: `bun run dev` exists in a
 * checkout of the source, not in the compiled executable (the Docker image).
 */
export type Launch = "source" | "compiled";

/** Connects within the configured time and checks the deployment can run change streams. */
export async function connectToMongo(config: Config, launch: Launch): Promise<MongoClient> {
  const named = /[?&]appname=/i.test(config.mongodbUri);
  let client: MongoClient;
  try {
    client = new MongoClient(config.mongodbUri, {
      ...(named ? {} : { appName: "mongo-feed" }),
      serverSelectionTimeoutMS: config.connectTimeoutMs,
      connectTimeoutMS: config.connectTimeoutMs,
    });
  } catch (error) {
    // The driver refuses the connection string itself (an unknown option, a malformed host).
    throw new StartupError(
      `MONGODB_URI is not usable: ${redactSecrets((error as Error).message, config.mongodbUri)} (${redactUri(config.mongodbUri)})`,
    );
  }
  try {
    await client.connect();
    const hello = await client.db("admin").command({ hello: 1 });
    if (!hello.setName && hello.msg !== "isdbgrid") throw standalone(config);
    return client;
  } catch (error) {
    await client.close().catch(() => {});
    throw explainStartupFailure(error, config, launch);
  }
}

/** Turns what the driver threw during startup into advice a person can act on. */
export function explainStartupFailure(error: unknown, config: Config, launch: Launch): Error {
  if (error instanceof StartupError) return error;
  const explained = explain(error, config, launch);
  return new StartupError(redactSecrets(explained.message, config.mongodbUri)); // a driver message may quote the URI
}

function explain(error: unknown, config: Config, launch: Launch): Error {
  const where = redactUri(config.mongodbUri);
  if (error instanceof MongoServerError && error.code === CHANGE_STREAMS_NEED_REPLICA_SET) return standalone(config);
  if (error instanceof MongoServerSelectionError) {
    return new StartupError(
      `could not reach MongoDB at ${where} within ${config.connectTimeoutMs} ms (${error.message}).\n` +
        "Is MongoDB running and reachable from here? Point MONGODB_URI (or --mongodb-uri) at your replica set" +
        (launch === "source"
          ? ",\nstart one with `docker compose up -d mongo1 mongo2 mongo3` (see compose.yaml), or try the server on the in-memory emulator with `bun run dev`."
          : "\n(the project's compose.yaml starts a three-member one next to this server: `docker compose up -d`)."),
    );
  }
  return new StartupError(`could not start the change stream on ${where}: ${error instanceof Error ? error.message : String(error)}`);
}

function standalone(config: Config): StartupError {
  return new StartupError(
    `MongoDB at ${redactUri(config.mongodbUri)} is a standalone server, but change streams need a replica set (or a sharded cluster).\n` +
      "Fix: restart mongod with --replSet rs0, run rs.initiate() once, and add ?replicaSet=rs0 to MONGODB_URI\n" +
      "(compose.yaml in this repository starts a three-member replica set that initiates itself).",
  );
}
