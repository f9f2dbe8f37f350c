import type { AbstractCursor, ChangeStream, ClientSession, Collection, Db, MongoClient } from "mongodb";
import { isDocument, type Document } from "./bson-values";
import { withDriverReadPreference } from "./common-options";
import type { Entity, EntityMap } from "./entities";

/** Fail points a test turned on, to be turned off after it. */
export interface FailPointRecord {
  client: MongoClient;
  name: string;
}

export interface OperationContext {
  entities: EntityMap;
  failPoints: FailPointRecord[];
}

type Target = Entity["kind"] | "testRunner";
type Run = (target: never, args: Document, ctx: OperationContext) => Promise<unknown>;

interface OperationDefinition {
  /** Argument names accepted besides `session`; anything else is a runner error. */
  args: string[];
  run: Run;
}

const WRITE = ["comment", "bypassDocumentValidation", "let", "writeConcern"];
const UPDATE = ["filter", "upsert", "arrayFilters", "collation", "hint", "sort", ...WRITE];
const DELETE = ["filter", "collation", "hint", ...WRITE];
const FIND = ["filter", "sort", "skip", "limit", "batchSize", "projection", "hint", "collation", "comment", "maxTimeMS", "allowDiskUse", "let", "min", "max", "returnKey", "showRecordId", "noCursorTimeout", "allowPartialResults"];
const AGGREGATE = ["pipeline", "batchSize", "allowDiskUse", "collation", "comment", "hint", "let", "maxTimeMS", "bypassDocumentValidation"];
const CHANGE_STREAM = ["pipeline", "fullDocument", "fullDocumentBeforeChange", "resumeAfter", "startAfter", "startAtOperationTime", "batchSize", "collation", "comment", "maxAwaitTimeMS", "showExpandedEvents"];
const CREATE_COLLECTION = ["collection", "viewOn", "pipeline", "changeStreamPreAndPostImages", "capped", "size", "max", "validator", "validationLevel", "validationAction", "clusteredIndex", "timeseries", "expireAfterSeconds", "encryptedFields", "collation"];
const CREATE_INDEX = ["keys", "name", "unique", "sparse", "expireAfterSeconds", "partialFilterExpression", "hidden", "collation", "commitQuorum"];

/** Splits off one named argument and returns the rest as driver options. */
function split<K extends string>(args: Document, ...names: K[]): [Record<K, never>, Document] {
  const picked: Record<string, unknown> = {};
  const rest: Document = { ...args };
  for (const name of names) {
    picked[name] = rest[name];
    delete rest[name];
  }
  return [picked as Record<K, never>, withDriverReadPreference(rest)];
}

/** Runs `watch` and forces the aggregate to execute without consuming any change. */
async function createChangeStream(target: MongoClient | Db | Collection<Document>, args: Document): Promise<ChangeStream<Document>> {
  const [{ pipeline }, options] = split(args, "pipeline");
  const stream = target.watch(pipeline ?? [], options);
  // The driver exposes cursorInit for exactly this (its own unified runner uses it).
  await (stream as unknown as { cursor: { cursorInit(): Promise<void> } }).cursor.cursorInit();
  return stream;
}

async function iterateUntilDocumentOrError(entity: Entity): Promise<unknown> {
  if (entity.kind === "changeStream") return entity.stream.next();
  if (entity.kind === "cursor") return entity.cursor.next();
  throw new Error(`iterateUntilDocumentOrError needs a change stream or cursor, got a ${entity.kind}`);
}

async function iterateOnce(entity: Entity): Promise<unknown> {
  if (entity.kind === "changeStream") return entity.stream.tryNext();
  if (entity.kind === "cursor") return entity.cursor.tryNext();
  throw new Error(`iterateOnce needs a change stream or cursor, got a ${entity.kind}`);
}

type CollectionEntity = { collection: Collection<Document> };
type DatabaseEntity = { db: Db };

const collectionOps: Record<string, OperationDefinition> = {
  insertOne: { args: ["document", ...WRITE], run: (t: CollectionEntity, a) => { const [{ document }, o] = split(a, "document"); return t.collection.insertOne(document, o); } },
  insertMany: { args: ["documents", "ordered", ...WRITE], run: (t: CollectionEntity, a) => { const [{ documents }, o] = split(a, "documents"); return t.collection.insertMany(documents, o); } },
  updateOne: { args: ["update", ...UPDATE], run: (t: CollectionEntity, a) => { const [{ filter, update }, o] = split(a, "filter", "update"); return t.collection.updateOne(filter, update, o); } },
  updateMany: { args: ["update", ...UPDATE], run: (t: CollectionEntity, a) => { const [{ filter, update }, o] = split(a, "filter", "update"); return t.collection.updateMany(filter, update, o); } },
  replaceOne: { args: ["replacement", ...UPDATE], run: (t: CollectionEntity, a) => { const [{ filter, replacement }, o] = split(a, "filter", "replacement"); return t.collection.replaceOne(filter, replacement, o); } },
  deleteOne: { args: DELETE, run: (t: CollectionEntity, a) => { const [{ filter }, o] = split(a, "filter"); return t.collection.deleteOne(filter, o); } },
  deleteMany: { args: DELETE, run: (t: CollectionEntity, a) => { const [{ filter }, o] = split(a, "filter"); return t.collection.deleteMany(filter, o); } },
  find: { args: FIND, run: (t: CollectionEntity, a) => { const [{ filter }, o] = split(a, "filter"); return t.collection.find(filter ?? {}, o).toArray(); } },
  aggregate: { args: AGGREGATE, run: (t: CollectionEntity, a) => { const [{ pipeline }, o] = split(a, "pipeline"); return t.collection.aggregate(pipeline, o).toArray(); } },
  countDocuments: { args: ["filter", "skip", "limit", "collation", "hint", "comment", "maxTimeMS"], run: (t: CollectionEntity, a) => { const [{ filter }, o] = split(a, "filter"); return t.collection.countDocuments(filter, o); } },
  estimatedDocumentCount: { args: ["maxTimeMS", "comment"], run: (t: CollectionEntity, a) => t.collection.estimatedDocumentCount(split(a)[1]) },
  distinct: { args: ["fieldName", "filter", "collation", "comment", "hint", "maxTimeMS"], run: (t: CollectionEntity, a) => { const [{ fieldName, filter }, o] = split(a, "fieldName", "filter"); return t.collection.distinct(fieldName, filter, o); } },
  findOneAndUpdate: { args: ["update", "returnDocument", "projection", ...UPDATE], run: (t: CollectionEntity, a) => { const [{ filter, update }, o] = split(a, "filter", "update"); return t.collection.findOneAndUpdate(filter, update, { ...returnDocument(o), includeResultMetadata: false }); } },
  findOneAndReplace: { args: ["replacement", "returnDocument", "projection", ...UPDATE], run: (t: CollectionEntity, a) => { const [{ filter, replacement }, o] = split(a, "filter", "replacement"); return t.collection.findOneAndReplace(filter, replacement, { ...returnDocument(o), includeResultMetadata: false }); } },
  findOneAndDelete: { args: ["projection", "sort", ...DELETE], run: (t: CollectionEntity, a) => { const [{ filter }, o] = split(a, "filter"); return t.collection.findOneAndDelete(filter, { ...o, includeResultMetadata: false }); } },
  createChangeStream: { args: CHANGE_STREAM, run: (t: CollectionEntity, a) => createChangeStream(t.collection, a) },
  rename: { args: ["to", "dropTarget"], run: async (t: CollectionEntity, a) => { const [{ to }, o] = split(a, "to"); await t.collection.rename(to, o); } },
  createIndex: { args: CREATE_INDEX, run: (t: CollectionEntity, a) => { const [{ keys }, o] = split(a, "keys"); return t.collection.createIndex(keys, o); } },
  dropIndex: { args: ["name"], run: async (t: CollectionEntity, a) => { const [{ name }, o] = split(a, "name"); await t.collection.dropIndex(name, o); } },
  listIndexes: { args: ["batchSize"], run: (t: CollectionEntity, a) => t.collection.listIndexes(split(a)[1]).toArray() },
  drop: { args: [], run: (t: CollectionEntity, a) => t.collection.drop(split(a)[1]) },
};

const databaseOps: Record<string, OperationDefinition> = {
  createChangeStream: { args: CHANGE_STREAM, run: (t: DatabaseEntity, a) => createChangeStream(t.db, a) },
  runCommand: { args: ["command", "commandName", "readPreference"], run: (t: DatabaseEntity, a) => { const [{ command }, o] = split(a, "command", "commandName"); return t.db.command(command, o); } },
  createCollection: { args: CREATE_COLLECTION, run: async (t: DatabaseEntity, a) => { const [{ collection }, o] = split(a, "collection"); await t.db.createCollection(collection, o); } },
  dropCollection: { args: ["collection"], run: (t: DatabaseEntity, a) => { const [{ collection }, o] = split(a, "collection"); return t.db.dropCollection(collection, o); } },
  modifyCollection: { args: ["collection", "changeStreamPreAndPostImages", "validator", "validationLevel", "validationAction", "index", "expireAfterSeconds", "timeseries"], run: (t: DatabaseEntity, a) => { const [{ collection }, o] = split(a, "collection"); const { session, ...fields } = o; return t.db.command({ collMod: collection, ...fields }, { session: session as ClientSession | undefined }); } },
  aggregate: { args: AGGREGATE, run: (t: DatabaseEntity, a) => { const [{ pipeline }, o] = split(a, "pipeline"); return t.db.aggregate(pipeline, o).toArray(); } },
  listCollections: { args: ["filter", "batchSize", "nameOnly", "authorizedCollections"], run: (t: DatabaseEntity, a) => { const [{ filter }, o] = split(a, "filter"); return t.db.listCollections(filter ?? {}, o).toArray(); } },
  listCollectionNames: { args: ["filter", "batchSize"], run: async (t: DatabaseEntity, a) => { const [{ filter }, o] = split(a, "filter"); return (await t.db.listCollections(filter ?? {}, { ...o, nameOnly: true }).toArray()).map((c) => c.name); } },
  dropDatabase: { args: [], run: (t: DatabaseEntity, a) => t.db.dropDatabase(split(a)[1]) },
};

const clientOps: Record<string, OperationDefinition> = {
  createChangeStream: { args: CHANGE_STREAM, run: (t: { client: MongoClient }, a) => createChangeStream(t.client, a) },
  listDatabases: { args: ["filter", "nameOnly", "authorizedDatabases"], run: (t: { client: MongoClient }, a) => t.client.db("admin").admin().listDatabases(split(a)[1]).then((r) => r.databases) },
  close: { args: [], run: async (t: { client: MongoClient }) => { await t.client.close(); } },
};

const cursorOps: Record<string, OperationDefinition> = {
  iterateUntilDocumentOrError: { args: [], run: (t: Entity) => iterateUntilDocumentOrError(t) },
  iterateOnce: { args: [], run: (t: Entity) => iterateOnce(t) },
  // Errors from killCursors are suppressed by the spec.
  close: { args: [], run: async (t: { stream?: ChangeStream; cursor?: AbstractCursor }) => { await (t.stream ?? t.cursor)?.close().catch(() => undefined); } },
};

const testRunnerOps: Record<string, OperationDefinition> = {
  failPoint: { args: ["client", "failPoint"], run: failPoint },
};

async function failPoint(_target: never, args: Document, ctx: OperationContext): Promise<void> {
  const { client } = ctx.entities.get(String(args.client), "client");
  const command = args.failPoint;
  if (!isDocument(command) || typeof command.configureFailPoint !== "string") throw new Error("failPoint needs a configureFailPoint document");
  await client.db("admin").command(command, { readPreference: "primary" });
  ctx.failPoints.push({ client, name: command.configureFailPoint });
}

const sessionOps: Record<string, OperationDefinition> = {
  endSession: { args: [], run: async (t: { session: ClientSession }) => { await t.session.endSession(); } },
};

const OPERATIONS: Record<Target, Record<string, OperationDefinition>> = {
  client: clientOps,
  database: databaseOps,
  collection: collectionOps,
  changeStream: cursorOps,
  cursor: cursorOps,
  session: sessionOps,
  bson: {},
  testRunner: testRunnerOps,
};

/** Operations whose result is an iterable of documents, matched element-wise as root documents. */
export const ITERABLE_RESULTS = new Set(["find", "aggregate", "listCollections", "listIndexes", "listDatabases"]);

function returnDocument(options: Document): Document {
  if (options.returnDocument === undefined) return options;
  const value = String(options.returnDocument).toLowerCase();
  if (value !== "before" && value !== "after") throw new Error(`invalid returnDocument ${String(options.returnDocument)}`);
  return { ...options, returnDocument: value };
}

/** Resolves the target and arguments of `name` on `object`, then runs it and returns its raw result. */
export async function runOperation(name: string, object: string, rawArgs: Document, ctx: OperationContext): Promise<unknown> {
  const target = object === "testRunner" ? undefined : ctx.entities.lookup(object);
  const definition = OPERATIONS[target?.kind ?? "testRunner"][name];
  if (!definition) throw new Error(`operation "${name}" on ${target?.kind ?? "testRunner"} is not supported by this runner`);
  const args: Document = { ...rawArgs };
  for (const key of Object.keys(args)) {
    if (key !== "session" && !definition.args.includes(key)) throw new Error(`unsupported argument "${key}" for ${name}`);
  }
  if (args.session !== undefined) args.session = ctx.entities.get(String(args.session), "session").session;
  return definition.run(target as never, args, ctx);
}
