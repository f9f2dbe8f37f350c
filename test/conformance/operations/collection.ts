import type { Document } from "../bson-values";
import type { Entity } from "../entities";
import { createChangeStream, initializedCursor } from "./cursors";
import {
  AGGREGATE,
  CHANGE_STREAM,
  COUNT,
  DELETE,
  FIND,
  FIND_ONE_AND,
  UPDATE,
  WRITE,
  type Args,
  type ArgumentName,
  type Operations,
} from "./definition";
import { NotSupportedByRunner } from "../failures";

type CollectionTarget = Extract<Entity, { kind: "collection" }>;

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
  "maxTimeMS",
  "rawData",
  "timeoutMS",
];

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

/** The format's requests ({ insertOne: { document } }, ...) already have the driver's shape. */
function bulkRequests(requests: unknown): Document[] {
  if (!Array.isArray(requests)) throw new Error("bulkWrite needs a requests array");
  const kinds = new Set(["insertOne", "updateOne", "updateMany", "replaceOne", "deleteOne", "deleteMany"]);
  for (const request of requests as Document[]) {
    const [kind, ...more] = Object.keys(request);
    if (!kind || more.length > 0 || !kinds.has(kind)) throw new NotSupportedByRunner(`bulkWrite request ${JSON.stringify(request)}`);
  }
  return requests as Document[];
}

export const collectionOperations: Operations<CollectionTarget> = {
  insertOne: {
    args: ["document", ...WRITE],
    run: ({ collection }, { document, ...o }) => collection.insertOne(document, o),
  },
  insertMany: {
    args: ["documents", "ordered", ...WRITE],
    run: ({ collection }, { documents, ...o }) => collection.insertMany(documents, o),
  },
  bulkWrite: {
    args: ["requests", "ordered", ...WRITE],
    run: ({ collection }, { requests, ...o }) => collection.bulkWrite(bulkRequests(requests) as never, o),
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
  findOne: { args: FIND, run: ({ collection }, { filter, ...o }) => collection.findOne(filter ?? {}, o) },
  createFindCursor: {
    args: FIND,
    run: ({ collection }, { filter, ...o }) => initializedCursor(collection.find(filter ?? {}, o)),
  },
  aggregate: {
    args: AGGREGATE,
    run: ({ collection }, { pipeline, ...o }) => collection.aggregate(pipeline, o).toArray(),
  },
  countDocuments: { args: COUNT, run: ({ collection }, { filter, ...o }) => collection.countDocuments(filter, o) },
  estimatedDocumentCount: {
    args: ["maxTimeMS", "comment", "readConcern", "rawData", "timeoutMS"],
    run: ({ collection }, o) => collection.estimatedDocumentCount(o),
  },
  // The deprecated count helper (the `count` command, which may use collection metadata).
  count: { args: COUNT, run: ({ collection }, { filter, ...o }) => collection.count(filter ?? {}, o) },
  distinct: {
    args: ["fieldName", "filter", "collation", "comment", "hint", "maxTimeMS", "readConcern", "rawData", "timeoutMS"],
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
    args: ["to", "dropTarget", "comment", "timeoutMS"],
    run: async ({ collection }, { to, ...o }) => void (await collection.rename(to, o)),
  },
  drop: { args: ["comment", "timeoutMS"], run: ({ collection }, o) => collection.drop(o) },
  createIndex: { args: CREATE_INDEX, run: ({ collection }, { keys, ...o }) => collection.createIndex(keys, o) },
  dropIndex: {
    args: ["name", "maxTimeMS", "comment", "rawData", "timeoutMS"],
    run: async ({ collection }, { name, ...o }) => void (await collection.dropIndex(name, o)),
  },
  dropIndexes: {
    args: ["maxTimeMS", "comment", "rawData", "timeoutMS"],
    run: async ({ collection }, o) => void (await collection.dropIndexes(o)),
  },
  listIndexes: {
    args: ["batchSize", "comment", "rawData", "timeoutMS"],
    run: ({ collection }, o) => collection.listIndexes(o).toArray(),
  },
  listIndexNames: {
    args: ["batchSize", "comment", "timeoutMS"],
    run: async ({ collection }, o) => (await collection.listIndexes(o).toArray()).map((index) => index.name),
  },
  createSearchIndex: { args: ["model"], run: ({ collection }, { model }) => collection.createSearchIndex(model) },
  createSearchIndexes: { args: ["models"], run: ({ collection }, { models }) => collection.createSearchIndexes(models) },
  dropSearchIndex: { args: ["name"], run: ({ collection }, { name }) => collection.dropSearchIndex(name) },
  updateSearchIndex: {
    args: ["name", "definition"],
    run: ({ collection }, { name, definition }) => collection.updateSearchIndex(name, definition),
  },
  listSearchIndexes: {
    args: ["name", "aggregationOptions"],
    run: ({ collection }, { name, aggregationOptions }) =>
      (name === undefined
        ? collection.listSearchIndexes(aggregationOptions)
        : collection.listSearchIndexes(name, aggregationOptions)
      ).toArray(),
  },
};
