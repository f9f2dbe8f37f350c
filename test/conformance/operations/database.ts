import type { Db, RunCursorCommandOptions } from "mongodb";
import type { Entity } from "../entities";
import { createChangeStream, initializedCursor } from "./cursors";
import { AGGREGATE, CHANGE_STREAM, type Args, type ArgumentName, type Operations } from "./definition";

type DatabaseTarget = Extract<Entity, { kind: "database" }>;

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
  "storageEngine",
  "indexOptionDefaults",
  "comment",
  "timeoutMS",
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
const CURSOR_COMMAND: ArgumentName[] = [
  "command",
  "commandName",
  "readPreference",
  "batchSize",
  "maxTimeMS",
  "comment",
  "cursorType",
  "timeoutMode",
  "timeoutMS",
];

/** runCursorCommand: getMore options go on the cursor; cursorType becomes the tailable/awaitData flags. */
function cursorCommand(db: Db, args: Args) {
  const { command, commandName: _, batchSize, maxTimeMS, comment, cursorType, ...options } = args;
  const flags: RunCursorCommandOptions = {};
  if (cursorType === "tailable" || cursorType === "tailableAwait") flags.tailable = true;
  if (cursorType === "tailableAwait") flags.awaitData = true;
  const cursor = db.runCursorCommand(command, { ...options, ...flags });
  if (batchSize !== undefined) cursor.setBatchSize(batchSize);
  if (maxTimeMS !== undefined) cursor.setMaxTimeMS(maxTimeMS);
  if (comment !== undefined) cursor.setComment(comment);
  return cursor;
}

export const databaseOperations: Operations<DatabaseTarget> = {
  createChangeStream: { args: CHANGE_STREAM, run: ({ db }, args) => createChangeStream(db, args) },
  // commandName exists for languages without ordered maps; JS keeps key order.
  runCommand: {
    args: ["command", "commandName", "readPreference", "timeoutMS"],
    run: ({ db }, { command, commandName: _, ...o }) => db.command(command, o),
  },
  runCursorCommand: { args: CURSOR_COMMAND, run: ({ db }, args) => cursorCommand(db, args).toArray() },
  createCommandCursor: { args: CURSOR_COMMAND, run: ({ db }, args) => initializedCursor(cursorCommand(db, args)) },
  createCollection: {
    args: CREATE_COLLECTION,
    // The collection can be saved as a collection entity.
    run: ({ db }, { collection, ...o }) => db.createCollection(collection, o),
  },
  dropCollection: {
    args: ["collection", "encryptedFields", "comment", "timeoutMS"],
    run: ({ db }, { collection, ...o }) => db.dropCollection(collection, o),
  },
  modifyCollection: {
    args: MODIFY_COLLECTION,
    run: ({ db }, { collection, session, ...fields }) => db.command({ collMod: collection, ...fields }, { session }),
  },
  aggregate: { args: AGGREGATE, run: ({ db }, { pipeline, ...o }) => db.aggregate(pipeline, o).toArray() },
  listCollections: {
    args: ["filter", "batchSize", "nameOnly", "authorizedCollections", "comment", "rawData", "timeoutMS"],
    run: ({ db }, { filter, ...o }) => db.listCollections(filter ?? {}, o).toArray(),
  },
  listCollectionObjects: {
    args: ["filter", "batchSize", "nameOnly", "authorizedCollections", "comment", "rawData", "timeoutMS"],
    run: ({ db }, { filter, ...o }) => db.listCollections(filter ?? {}, o).toArray(),
  },
  listCollectionNames: {
    args: ["filter", "batchSize", "authorizedCollections", "comment", "timeoutMS"],
    run: async ({ db }, { filter, ...o }) =>
      (await db.listCollections(filter ?? {}, { ...o, nameOnly: true }).toArray()).map((c) => c.name),
  },
  dropDatabase: { args: ["comment", "timeoutMS"], run: ({ db }, o) => db.dropDatabase(o) },
};
