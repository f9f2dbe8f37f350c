import { MongoClient, MongoServerError, MongoServerSelectionError } from "mongodb";
import type { Config } from "../config.ts";
import { redactSecrets, redactUri } from "./redact-uri.ts";

/** Startup cannot go on; the message says what was tried and what to do. */
export class StartupError extends Error {}

const CHANGE_STREAMS_NEED_REPLICA_SET = 40573;

export { redactUri };

/** Connects within the configured time and checks the deployment can run change streams. */
export async function connectToMongo(config: Config): Promise<MongoClient> {
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
    throw explainStartupFailure(error, config);
  }
}

/** Turns what the driver threw during startup into advice a person can act on. */
export function explainStartupFailure(error: unknown, config: Config): Error {
  if (error instanceof StartupError) return error;
  const explained = explain(error, config);
  return new StartupError(redactSecrets(explained.message, config.mongodbUri)); // a driver message may quote the URI
}

function explain(error: unknown, config: Config): Error {
  const where = redactUri(config.mongodbUri);
  if (error instanceof MongoServerError && error.code === CHANGE_STREAMS_NEED_REPLICA_SET) return standalone(config);
  if (error instanceof MongoServerSelectionError) {
    return new StartupError(
      `could not reach MongoDB at ${where} within ${config.connectTimeoutMs} ms (${error.message}).\n` +
        "Is MongoDB running and reachable from here? Point MONGODB_URI (or --mongodb-uri) at your replica set,\n" +
        "start one with `docker compose up -d` (see compose.yaml), or try the server on the in-memory emulator with `bun run dev`.",
    );
  }
  return new StartupError(`could not start the change stream on ${where}: ${error instanceof Error ? error.message : String(error)}`);
}

function standalone(config: Config): StartupError {
  return new StartupError(
    `MongoDB at ${redactUri(config.mongodbUri)} is a standalone server, but change streams need a replica set (or a sharded cluster).\n` +
      "Fix: restart mongod with --replSet rs0, run rs.initiate() once, and add ?replicaSet=rs0 to MONGODB_URI\n" +
      "(compose.yaml in this repository starts a single-node replica set that initiates itself).",
  );
}
