import type { MongoClient } from "mongodb";
import type { Document } from "../bson-values";
import type { EntityEnvironment, EntityMap } from "../entities";
import type { Operation } from "../load-spec-files";
import { NotSupportedByRunner } from "../failures";

/** A fail point a test turned on, to be turned off after it (on the same client). */
export interface FailPointRecord {
  client: MongoClient;
  name: string;
  /** A client the runner opened only for this fail point (targetedFailPoint). */
  closeAfter?: boolean;
}

export interface OperationContext {
  entities: EntityMap;
  failPoints: FailPointRecord[];
  env: EntityEnvironment & { internalClient: MongoClient; timeoutMs: number };
  /** Runs a nested operation with its assertions (runOnThread, withTransaction callbacks). */
  execute(operation: Operation, options?: { propagateErrors?: boolean }): Promise<void>;
}

/** Every argument name an operation accepts (besides `session`), for typing. */
const ARGUMENT_NAMES = [
  "aggregationOptions",
  "aliases",
  "allowDiskUse",
  "allowPartialResults",
  "arrayFilters",
  "authorizedCollections",
  "authorizedDatabases",
  "batchSize",
  "bypassDocumentValidation",
  "callback",
  "capped",
  "changeStreamPreAndPostImages",
  "chunkSizeBytes",
  "client",
  "clusteredIndex",
  "collation",
  "collection",
  "collectionName",
  "command",
  "commandName",
  "comment",
  "commitQuorum",
  "connections",
  "contentType",
  "count",
  "cursorType",
  "database",
  "databaseName",
  "definition",
  "disableMD5",
  "document",
  "documents",
  "dropTarget",
  "encryptedFields",
  "entities",
  "event",
  "expireAfterSeconds",
  "failPoint",
  "fieldName",
  "filename",
  "filter",
  "fullDocument",
  "fullDocumentBeforeChange",
  "hidden",
  "hint",
  "id",
  "index",
  "indexName",
  "indexOptionDefaults",
  "keys",
  "let",
  "limit",
  "max",
  "maxAwaitTimeMS",
  "maxCommitTimeMS",
  "maxTimeMS",
  "metadata",
  "min",
  "model",
  "models",
  "ms",
  "name",
  "nameOnly",
  "newFilename",
  "noCursorTimeout",
  "operation",
  "oplogReplay",
  "ordered",
  "partialFilterExpression",
  "pipeline",
  "priorTopologyDescription",
  "projection",
  "rawData",
  "readConcern",
  "readPreference",
  "replacement",
  "requests",
  "resumeAfter",
  "returnDocument",
  "returnKey",
  "revision",
  "session",
  "showExpandedEvents",
  "showRecordId",
  "size",
  "skip",
  "sort",
  "source",
  "sparse",
  "startAfter",
  "startAtOperationTime",
  "state",
  "storageEngine",
  "thread",
  "timeoutMS",
  "timeoutMode",
  "timeseries",
  "to",
  "topologyDescription",
  "topologyType",
  "unique",
  "update",
  "upsert",
  "validationAction",
  "validationLevel",
  "validator",
  "verboseResults",
  "viewOn",
  "writeConcern",
] as const;
export type ArgumentName = (typeof ARGUMENT_NAMES)[number];

/**
 * Test-file arguments are handed to the driver as they are (the driver validates them, and
 * its errors are what tests assert); typing them `never` lets them fill any parameter.
 */
export type Args = Readonly<Record<ArgumentName, never>>;

export interface OperationDefinition<Target> {
  /** Argument names accepted besides `session`; any other is a runner error. */
  args: readonly ArgumentName[];
  run(target: Target, args: Args, ctx: OperationContext): Promise<unknown>;
}

export type Operations<Target> = Record<string, OperationDefinition<Target>>;

/** Looks the operation up for the target's entity type and checks its argument names. */
export function definitionFor<T>(operations: Operations<T>, name: string, label: string, args: Document): OperationDefinition<T> {
  const definition = Object.hasOwn(operations, name) ? operations[name] : undefined;
  if (!definition) throw new NotSupportedByRunner(`operation "${name}" on a ${label}`);
  for (const key of Object.keys(args)) {
    if (key !== "session" && !definition.args.includes(key as ArgumentName)) throw new NotSupportedByRunner(`argument "${key}" of ${name}`);
  }
  return definition;
}

/** The format's limit for waitForThread, waitForEvent and waitForPrimaryChange. */
export const WAIT_LIMIT_MS = 10_000;

/** Argument groups shared by several operations. */
export const WRITE: ArgumentName[] = ["comment", "bypassDocumentValidation", "let", "writeConcern", "rawData", "timeoutMS"];
export const UPDATE: ArgumentName[] = ["filter", "upsert", "arrayFilters", "collation", "hint", "sort", ...WRITE];
export const DELETE: ArgumentName[] = ["filter", "collation", "hint", ...WRITE];
export const FIND: ArgumentName[] = [
  "filter",
  "sort",
  "skip",
  "limit",
  "batchSize",
  "projection",
  "hint",
  "collation",
  "comment",
  "maxTimeMS",
  "allowDiskUse",
  "let",
  "min",
  "max",
  "returnKey",
  "showRecordId",
  "noCursorTimeout",
  "allowPartialResults",
  "cursorType",
  "maxAwaitTimeMS",
  "oplogReplay",
  "readConcern",
  "rawData",
  "timeoutMS",
  "timeoutMode",
];
export const AGGREGATE: ArgumentName[] = [
  "pipeline",
  "batchSize",
  "allowDiskUse",
  "collation",
  "comment",
  "hint",
  "let",
  "maxTimeMS",
  "maxAwaitTimeMS",
  "bypassDocumentValidation",
  "readConcern",
  "writeConcern",
  "rawData",
  "timeoutMS",
  "timeoutMode",
];
export const CHANGE_STREAM: ArgumentName[] = [
  "pipeline",
  "fullDocument",
  "fullDocumentBeforeChange",
  "resumeAfter",
  "startAfter",
  "startAtOperationTime",
  "batchSize",
  "collation",
  "comment",
  "maxAwaitTimeMS",
  "showExpandedEvents",
  "timeoutMS",
];
export const FIND_ONE_AND: ArgumentName[] = ["returnDocument", "projection", ...UPDATE];
export const COUNT: ArgumentName[] = [
  "filter",
  "skip",
  "limit",
  "collation",
  "hint",
  "comment",
  "maxTimeMS",
  "readConcern",
  "rawData",
  "timeoutMS",
];
