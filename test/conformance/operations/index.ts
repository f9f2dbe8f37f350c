import type { Document } from "../bson-values";
import { toReadPreference } from "../common-options";
import { bucketOperations } from "./bucket";
import { clientOperations } from "./client";
import { collectionOperations } from "./collection";
import { iterableOperations } from "./cursors";
import { databaseOperations } from "./database";
import { definitionFor, type Args, type OperationContext } from "./definition";
import { sessionOperations } from "./session";
import { testRunnerOperations } from "./test-runner";
import { NotSupportedByRunner } from "../failures";

export type { FailPointRecord, OperationContext } from "./definition";

/** Operations whose result is an iterable of documents, matched element-wise as root documents. */
export const ITERABLE_RESULTS = new Set([
  "find",
  "aggregate",
  "listCollections",
  "listIndexes",
  "listDatabases",
  "listDatabaseObjects",
  "listCollectionObjects",
  "runCursorCommand",
  "listSearchIndexes",
]);

/** Resolves target, session and readPreference, runs the operation and returns its raw result. */
export async function runOperation(name: string, object: string, rawArgs: Document, ctx: OperationContext): Promise<unknown> {
  const args: Document = { ...rawArgs };
  if (args.session !== undefined) args.session = ctx.entities.get(String(args.session), "session").session;
  if (args.readPreference !== undefined) args.readPreference = toReadPreference(args.readPreference);
  const driverArgs = args as unknown as Args;
  if (object === "testRunner") return definitionFor(testRunnerOperations, name, "testRunner", args).run(undefined, driverArgs, ctx);
  const target = ctx.entities.lookup(object);
  switch (target.kind) {
    case "collection":
      return definitionFor(collectionOperations, name, target.kind, args).run(target, driverArgs, ctx);
    case "database":
      return definitionFor(databaseOperations, name, target.kind, args).run(target, driverArgs, ctx);
    case "client":
      return definitionFor(clientOperations, name, target.kind, args).run(target, driverArgs, ctx);
    case "changeStream":
    case "cursor":
      return definitionFor(iterableOperations, name, target.kind, args).run(target, driverArgs, ctx);
    case "session":
      return definitionFor(sessionOperations, name, target.kind, args).run(target, driverArgs, ctx);
    case "bucket":
      return definitionFor(bucketOperations, name, target.kind, args).run(target, driverArgs, ctx);
    default:
      throw new NotSupportedByRunner(`operation "${name}" on a ${target.kind}`);
  }
}
