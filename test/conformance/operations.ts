import type { ChangeStream, Collection, Db, MongoClient } from "mongodb";
import { isDocument, type Document } from "./bson-values";
import { toReadPreference } from "./common-options";
import type { ClientEntity, Entity, EntityMap } from "./entities";

/** A fail point a test turned on, to be turned off after it. */
export interface FailPointRecord {
  client: MongoClient;
  name: string;
}

export interface OperationContext {
  entities: EntityMap;
  failPoints: FailPointRecord[];
}

/** Every argument name an operation below accepts (besides `session`). */
const ARGUMENT_NAMES = [
  "document",
  "documents",
  "ordered",
  "filter",
  "update",
  "replacement",
  "upsert",
  "arrayFilters",
  "collation",
  "hint",
  "sort",
  "comment",
  "bypassDocumentValidation",
  "let",
  "writeConcern",
  "skip",
  "limit",
  "batchSize",
  "projection",
  "maxTimeMS",
  "allowDiskUse",
  "min",
  "max",
  "returnKey",
  "showRecordId",
  "noCursorTimeout",
  "allowPartialResults",
  "pipeline",
  "fieldName",
  "returnDocument",
  "fullDocument",
  "fullDocumentBeforeChange",
  "resumeAfter",
  "startAfter",
  "startAtOperationTime",
  "maxAwaitTimeMS",
  "showExpandedEvents",
  "to",
  "dropTarget",
  "keys",
  "name",
  "unique",
  "sparse",
  "expireAfterSeconds",
  "partialFilterExpression",
  "hidden",
  "commitQuorum",
  "command",
  "commandName",
  "readPreference",
  "collection",
  "viewOn",
  "changeStreamPreAndPostImages",
  "capped",
  "size",
  "validator",
  "validationLevel",
  "validationAction",
  "clusteredIndex",
  "timeseries",
  "encryptedFields",
  "index",
  "nameOnly",
  "authorizedCollections",
  "authorizedDatabases",
  "client",
  "failPoint",
  "session",
] as const;
type ArgumentName = (typeof ARGUMENT_NAMES)[number];

/**
 * Test-file arguments are handed to the driver as they are (the driver validates them, and
 * its errors are what tests assert); typing them `never` lets them fill any parameter.
 */
type Args = Readonly<Record<ArgumentName, never>>;

interface OperationDefinition<Target> {
  /** Argument names accepted besides `session`; any other is a runner error. */
  args: readonly ArgumentName[];
  run(target: Target, args: Args, ctx: OperationContext): Promise<unknown>;
}

type Operations<Target> = Record<string, OperationDefinition<Target>>;
type CollectionTarget = Extract<Entity, { kind: "collection" }>;
type DatabaseTarget = Extract<Entity, { kind: "database" }>;
type SessionTarget = Extract<Entity, { kind: "session" }>;
type IterableTarget = Extract<Entity, { kind: "changeStream" | "cursor" }>;

const WRITE: ArgumentName[] = ["comment", "bypassDocumentValidation", "let", "writeConcern"];
const UPDATE: ArgumentName[] = ["filter", "upsert", "arrayFilters", "collation", "hint", "sort", ...WRITE];
const DELETE: ArgumentName[] = ["filter", "collation", "hint", ...WRITE];
const FIND: ArgumentName[] = [
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
];
const AGGREGATE: ArgumentName[] = [
  "pipeline",
  "batchSize",
  "allowDiskUse",
  "collation",
  "comment",
  "hint",
  "let",
  "maxTimeMS",
  "bypassDocumentValidation",
];
const CHANGE_STREAM: ArgumentName[] = [
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
];
const CREATE_COLLECTION: ArgumentName[] = [
  "collection",
  "viewOn",
  "pipeline",
  "changeStreamPreAndPostImages",
  "capped",
  "size",
  "max",
  "validator",
  "validationLevel",
  "validationAction",
  "clusteredIndex",
  "timeseries",
  "expireAfterSeconds",
  "encryptedFields",
  "collation",
];
const MODIFY_COLLECTION: ArgumentName[] = [
  "collection",
  "changeStreamPreAndPostImages",
  "validator",
  "validationLevel",
  "validationAction",
  "index",
  "expireAfterSeconds",
  "timeseries",
];
const CREATE_INDEX: ArgumentName[] = [
  "keys",
  "name",
  "unique",
  "sparse",
  "expireAfterSeconds",
  "partialFilterExpression",
  "hidden",
  "collation",
  "commitQuorum",
];
const FIND_ONE_AND: ArgumentName[] = ["returnDocument", "projection", ...UPDATE];

/** Runs `watch` and makes the aggregate execute without consuming any change. */
async function createChangeStream(target: MongoClient | Db | Collection<Document>, args: Args): Promise<ChangeStream<Document>> {
  const { pipeline, ...options } = args;
  const stream = target.watch(pipeline ?? [], options);
  // The driver keeps cursorInit for exactly this purpose (its own unified runner calls it).
  await (stream as unknown as { cursor: { cursorInit(): Promise<void> } }).cursor.cursorInit();
  return stream;
}

/** findOneAnd* return the document itself, with returnDocument matched case-insensitively. */
function findOneAndOptions(args: Args): Document {
  const options: Document = { ...args, includeResultMetadata: false };
  if (args.returnDocument !== undefined) {
    const value = String(args.returnDocument).toLowerCase();
    if (value !== "before" && value !== "after") throw new Error(`invalid returnDocument ${String(args.returnDocument)}`);
    options.returnDocument = value;
  }
  return options;
}

const collectionOps: Operations<CollectionTarget> = {
  insertOne: {
    args: ["document", ...WRITE],
    run: ({ collection }, { document, ...o }) => collection.insertOne(document, o),
  },
  insertMany: {
    args: ["documents", "ordered", ...WRITE],
    run: ({ collection }, { documents, ...o }) => collection.insertMany(documents, o),
  },
  updateOne: {
    args: ["update", ...UPDATE],
    run: ({ collection }, { filter, update, ...o }) => collection.updateOne(filter, update, o),
  },
  updateMany: {
    args: ["update", ...UPDATE],
    run: ({ collection }, { filter, update, ...o }) => collection.updateMany(filter, update, o),
  },
  replaceOne: {
    args: ["replacement", ...UPDATE],
    run: ({ collection }, { filter, replacement, ...o }) => collection.replaceOne(filter, replacement, o),
  },
  deleteOne: { args: DELETE, run: ({ collection }, { filter, ...o }) => collection.deleteOne(filter, o) },
  deleteMany: { args: DELETE, run: ({ collection }, { filter, ...o }) => collection.deleteMany(filter, o) },
  // Iterables are fully iterated as part of the operation.
  find: { args: FIND, run: ({ collection }, { filter, ...o }) => collection.find(filter ?? {}, o).toArray() },
  aggregate: {
    args: AGGREGATE,
    run: ({ collection }, { pipeline, ...o }) => collection.aggregate(pipeline, o).toArray(),
  },
  countDocuments: {
    args: ["filter", "skip", "limit", "collation", "hint", "comment", "maxTimeMS"],
    run: ({ collection }, { filter, ...o }) => collection.countDocuments(filter, o),
  },
  estimatedDocumentCount: {
    args: ["maxTimeMS", "comment"],
    run: ({ collection }, o) => collection.estimatedDocumentCount(o),
  },
  distinct: {
    args: ["fieldName", "filter", "collation", "comment", "hint", "maxTimeMS"],
    run: ({ collection }, { fieldName, filter, ...o }) => collection.distinct(fieldName, filter ?? {}, o),
  },
  findOneAndUpdate: {
    args: ["update", ...FIND_ONE_AND],
    run: ({ collection }, { filter, update, ...o }) => collection.findOneAndUpdate(filter, update, findOneAndOptions(o as Args)),
  },
  findOneAndReplace: {
    args: ["replacement", ...FIND_ONE_AND],
    run: ({ collection }, { filter, replacement, ...o }) => collection.findOneAndReplace(filter, replacement, findOneAndOptions(o as Args)),
  },
  findOneAndDelete: {
    args: ["projection", "sort", ...DELETE],
    run: ({ collection }, { filter, ...o }) => collection.findOneAndDelete(filter, { ...o, includeResultMetadata: false }),
  },
  createChangeStream: { args: CHANGE_STREAM, run: ({ collection }, args) => createChangeStream(collection, args) },
  rename: {
    args: ["to", "dropTarget"],
    run: async ({ collection }, { to, ...o }) => void (await collection.rename(to, o)),
  },
  createIndex: { args: CREATE_INDEX, run: ({ collection }, { keys, ...o }) => collection.createIndex(keys, o) },
  dropIndex: {
    args: ["name"],
    run: async ({ collection }, { name, ...o }) => void (await collection.dropIndex(name, o)),
  },
  listIndexes: { args: ["batchSize"], run: ({ collection }, o) => collection.listIndexes(o).toArray() },
  drop: { args: [], run: ({ collection }, o) => collection.drop(o) },
};

const databaseOps: Operations<DatabaseTarget> = {
  createChangeStream: { args: CHANGE_STREAM, run: ({ db }, args) => createChangeStream(db, args) },
  // commandName exists for languages without ordered maps; JS keeps key order.
  runCommand: {
    args: ["command", "commandName", "readPreference"],
    run: ({ db }, { command, commandName: _, ...o }) => db.command(command, o),
  },
  createCollection: {
    args: CREATE_COLLECTION,
    run: async ({ db }, { collection, ...o }) => void (await db.createCollection(collection, o)),
  },
  dropCollection: {
    args: ["collection"],
    run: ({ db }, { collection, ...o }) => db.dropCollection(collection, o),
  },
  modifyCollection: {
    args: MODIFY_COLLECTION,
    run: ({ db }, { collection, session, ...fields }) => db.command({ collMod: collection, ...fields }, { session }),
  },
  aggregate: { args: AGGREGATE, run: ({ db }, { pipeline, ...o }) => db.aggregate(pipeline, o).toArray() },
  listCollections: {
    args: ["filter", "batchSize", "nameOnly", "authorizedCollections"],
    run: ({ db }, { filter, ...o }) => db.listCollections(filter ?? {}, o).toArray(),
  },
  listCollectionNames: {
    args: ["filter", "batchSize"],
    run: async ({ db }, { filter, ...o }) =>
      (await db.listCollections(filter ?? {}, { ...o, nameOnly: true }).toArray()).map((c) => c.name),
  },
  dropDatabase: { args: [], run: ({ db }, o) => db.dropDatabase(o) },
};

const clientOps: Operations<ClientEntity> = {
  createChangeStream: { args: CHANGE_STREAM, run: ({ client }, args) => createChangeStream(client, args) },
  listDatabases: {
    args: ["filter", "nameOnly", "authorizedDatabases"],
    run: async ({ client }, o) => (await client.db("admin").admin().listDatabases(o)).databases,
  },
  close: { args: [], run: async ({ client }) => void (await client.close()) },
};

const iterableOps: Operations<IterableTarget> = {
  iterateUntilDocumentOrError: {
    args: [],
    run: (target) => (target.kind === "changeStream" ? target.stream.next() : target.cursor.next()),
  },
  // One getMore at most when the batch is empty.
  iterateOnce: {
    args: [],
    run: (target) => (target.kind === "changeStream" ? target.stream.tryNext() : target.cursor.tryNext()),
  },
  // The spec has runners suppress errors from closing (killCursors).
  close: {
    args: [],
    run: async (target) => void (await (target.kind === "changeStream" ? target.stream : target.cursor).close().catch(() => undefined)),
  },
};

const sessionOps: Operations<SessionTarget> = {
  endSession: { args: [], run: async ({ session }) => void (await session.endSession()) },
};

const testRunnerOps: Operations<undefined> = {
  failPoint: { args: ["client", "failPoint"], run: (_target, args, ctx) => failPoint(args, ctx) },
};

/** configureFailPoint through the named client entity (not an internal client), on admin. */
async function failPoint(args: Args, ctx: OperationContext): Promise<void> {
  const { client, events } = ctx.entities.get(String(args.client), "client");
  const command: unknown = args.failPoint;
  if (!isDocument(command) || typeof command.configureFailPoint !== "string")
    throw new Error("failPoint needs a configureFailPoint document");
  events?.ignoreNextFailPointCommand();
  await client.db("admin").command(command, { readPreference: "primary" });
  ctx.failPoints.push({ client, name: command.configureFailPoint });
}

/** Operations whose result is an iterable of documents, matched element-wise as root documents. */
export const ITERABLE_RESULTS = new Set(["find", "aggregate", "listCollections", "listIndexes", "listDatabases"]);

/** Looks the operation up for the target's entity type and checks its argument names. */
function definitionFor<T>(operations: Operations<T>, name: string, label: string, args: Document): OperationDefinition<T> {
  const definition = operations[name];
  if (!definition) throw new Error(`operation "${name}" on a ${label} is not supported by this runner`);
  for (const key of Object.keys(args)) {
    if (key !== "session" && !definition.args.includes(key as ArgumentName)) throw new Error(`unsupported argument "${key}" for ${name}`);
  }
  return definition;
}

/** Resolves target, session and readPreference, runs the operation and returns its raw result. */
export async function runOperation(name: string, object: string, rawArgs: Document, ctx: OperationContext): Promise<unknown> {
  const args: Document = { ...rawArgs };
  if (args.session !== undefined) args.session = ctx.entities.get(String(args.session), "session").session;
  if (args.readPreference !== undefined) args.readPreference = toReadPreference(args.readPreference);
  const driverArgs = args as unknown as Args;
  if (object === "testRunner") return definitionFor(testRunnerOps, name, "testRunner", args).run(undefined, driverArgs, ctx);
  const target = ctx.entities.lookup(object);
  switch (target.kind) {
    case "collection":
      return definitionFor(collectionOps, name, target.kind, args).run(target, driverArgs, ctx);
    case "database":
      return definitionFor(databaseOps, name, target.kind, args).run(target, driverArgs, ctx);
    case "client":
      return definitionFor(clientOps, name, target.kind, args).run(target, driverArgs, ctx);
    case "changeStream":
    case "cursor":
      return definitionFor(iterableOps, name, target.kind, args).run(target, driverArgs, ctx);
    case "session":
      return definitionFor(sessionOps, name, target.kind, args).run(target, driverArgs, ctx);
    case "bson":
      throw new Error(`entity "${object}" is a BSON value and has no operations`);
  }
}
