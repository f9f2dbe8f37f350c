/** Namespace commands: create, drop, dropDatabase, renameCollection, collMod, listCollections, listDatabases. */
import { Long, type Document } from "bson";
import { CommandError } from "../errors.ts";
import { compileFilter } from "../query.ts";
import type { CommandHandler } from "./context.ts";

const CREATE_OPTION_KEYS = new Set([
  "capped",
  "size",
  "max",
  "validator",
  "validationLevel",
  "validationAction",
  "viewOn",
  "pipeline",
  "collation",
  "changeStreamPreAndPostImages",
  "timeseries",
  "expireAfterSeconds",
  "clusteredIndex",
]);

const create: CommandHandler = (ctx) => {
  const options: Document = {};
  for (const [key, value] of Object.entries(ctx.command)) if (CREATE_OPTION_KEYS.has(key)) options[key] = value;
  ctx.state.store.create(ctx.db, String(ctx.command.create), options);
  return { ok: 1 };
};

const drop: CommandHandler = (ctx) => {
  const name = String(ctx.command.drop);
  const coll = ctx.state.store.get(ctx.db, name);
  const nIndexesWas = coll?.indexes.length ?? 0;
  if (!ctx.state.store.drop(ctx.db, name)) return { ok: 1 };
  return { nIndexesWas, ns: `${ctx.db}.${name}`, ok: 1 };
};

const dropDatabase: CommandHandler = (ctx) => {
  ctx.state.store.dropDatabase(ctx.db);
  return { dropped: ctx.db, ok: 1 };
};

function splitNamespace(ns: unknown): [string, string] {
  if (typeof ns !== "string") throw new CommandError(73, "Invalid namespace");
  const dot = ns.indexOf(".");
  if (dot <= 0 || dot === ns.length - 1) throw new CommandError(73, `Invalid namespace specified '${ns}'`);
  return [ns.slice(0, dot), ns.slice(dot + 1)];
}

const renameCollection: CommandHandler = (ctx) => {
  const from = splitNamespace(ctx.command.renameCollection);
  const to = splitNamespace(ctx.command.to);
  ctx.state.store.rename(from, to, ctx.command.dropTarget === true);
  return { ok: 1 };
};

const collMod: CommandHandler = (ctx) => {
  const { command, state } = ctx;
  const name = String(command.collMod);
  const coll = state.store.get(ctx.db, name);
  if (!coll) throw new CommandError(26, `ns does not exist: ${ctx.db}.${name}`);
  const before = { ...coll.options };
  const changes: Document = {};
  for (const [key, value] of Object.entries(command)) {
    if (key === "collMod" || key.startsWith("$") || key === "lsid" || key === "txnNumber") continue;
    if (key === "writeConcern" || key === "comment") continue;
    changes[key] = value;
  }
  for (const [key, value] of Object.entries(changes)) {
    if (key === "index") continue;
    coll.options[key] = value;
  }
  state.oplog.append({
    op: "modify",
    db: ctx.db,
    coll: name,
    uuid: coll.uuid,
    operationDescription: changes,
    stateBeforeChange: { collectionOptions: { uuid: coll.uuid, ...before } },
  });
  return { ok: 1 };
};

const listCollections: CommandHandler = (ctx) => {
  const { command, state } = ctx;
  const nameOnly = command.nameOnly === true;
  const all = state.store.collections(ctx.db).map((coll) => {
    const isView = coll.options.viewOn !== undefined;
    if (nameOnly) return { name: coll.name, type: isView ? "view" : "collection" };
    return isView
      ? { name: coll.name, type: "view", options: { ...coll.options }, info: { readOnly: true } }
      : {
          name: coll.name,
          type: "collection",
          options: { ...coll.options },
          info: { readOnly: false, uuid: coll.uuid },
          idIndex: { v: 2, key: { _id: 1 }, name: "_id_" },
        };
  });
  const predicate = compileFilter(command.filter as Document | undefined);
  const firstBatch = all.filter((doc) => predicate(doc));
  return { cursor: { id: Long.ZERO, ns: `${ctx.db}.$cmd.listCollections`, firstBatch }, ok: 1 };
};

const listDatabases: CommandHandler = (ctx) => {
  const { command, state } = ctx;
  const all = state.store
    .databaseNames()
    .filter((name) => state.store.collections(name).length > 0)
    .map((name) => (command.nameOnly === true ? { name } : { name, sizeOnDisk: 8192, empty: false }));
  const predicate = compileFilter(command.filter as Document | undefined);
  const databases = all.filter((doc) => predicate(doc));
  if (command.nameOnly === true) return { databases, ok: 1 };
  return { databases, totalSize: 8192 * databases.length, totalSizeMb: 0, ok: 1 };
};

export const ddlCommands: Record<string, CommandHandler> = {
  create,
  drop,
  dropDatabase,
  renameCollection,
  collMod,
  listCollections,
  listDatabases,
};
