/** The insert, update and delete commands (ordered and unordered batches with writeErrors). */
import type { Document } from "bson";
import { CommandError } from "../errors.ts";
import { matchingDocuments } from "../query.ts";
import type { Collection } from "../store.ts";
import { commitUpdate, computeUpdate, deleteDocument, insertDocument, isReplacement, upsertSeed, withIdFirst } from "../writes.ts";
import type { CommandContext, CommandHandler } from "./context.ts";

/** Runs each statement; collects write errors; stops at the first one when ordered. */
function runBatch<T>(items: T[], ordered: boolean, each: (item: T, index: number) => void): Document[] {
  const writeErrors: Document[] = [];
  for (let index = 0; index < items.length; index++) {
    try {
      each(items[index] as T, index);
    } catch (error) {
      if (!(error instanceof CommandError)) throw error;
      writeErrors.push({ index, code: error.code, errmsg: error.message, ...error.extra });
      if (ordered) break;
    }
  }
  return writeErrors;
}

function collectionName(ctx: CommandContext, key: string): string {
  const name = ctx.command[key];
  if (typeof name !== "string") throw new CommandError(73, `collection name has invalid type ${typeof name}`);
  return name;
}

const insert: CommandHandler = (ctx) => {
  const { state, command } = ctx;
  const docs = (command.documents ?? []) as Document[];
  const coll = state.store.ensure(ctx.db, collectionName(ctx, "insert"));
  let n = 0;
  const writeErrors = runBatch(docs, command.ordered !== false, (doc) => {
    insertDocument(state.oplog, coll, withIdFirst(doc));
    n++;
  });
  return writeErrors.length > 0 ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
};

const update: CommandHandler = (ctx) => {
  const { state, command } = ctx;
  const name = collectionName(ctx, "update");
  const statements = (command.updates ?? []) as Document[];
  let n = 0;
  let nModified = 0;
  const upserted: Document[] = [];
  const writeErrors = runBatch(statements, command.ordered !== false, (statement, index) => {
    const filter = statement.q as Document | undefined;
    const modifier = statement.u as Document | Document[];
    const arrayFilters = statement.arrayFilters as Document[] | undefined;
    let coll: Collection | undefined = state.store.get(ctx.db, name);
    const targets = matchingDocuments(coll, filter, statement.multi === true ? Infinity : 1);
    if (targets.length === 0) {
      if (statement.upsert !== true) return;
      coll ??= state.store.ensure(ctx.db, name);
      const seedFields = upsertSeed(filter);
      if (!("_id" in seedFields) && isReplacement(modifier) && "_id" in modifier) seedFields._id = modifier._id;
      const seed = withIdFirst(seedFields);
      const change = computeUpdate(seed, modifier, arrayFilters, true);
      const doc = change ? change.after : seed;
      insertDocument(state.oplog, coll, doc);
      n++;
      upserted.push({ index, _id: doc._id });
      return;
    }
    for (const before of targets) {
      n++;
      const change = computeUpdate(before, modifier, arrayFilters, false, filter);
      if (!change || !coll) continue;
      commitUpdate(state.oplog, coll, before, change);
      nModified++;
    }
  });
  const reply: Document = { n, nModified };
  if (upserted.length > 0) reply.upserted = upserted;
  if (writeErrors.length > 0) reply.writeErrors = writeErrors;
  reply.ok = 1;
  return reply;
};

const remove: CommandHandler = (ctx) => {
  const { state, command } = ctx;
  const coll = state.store.get(ctx.db, collectionName(ctx, "delete"));
  const statements = (command.deletes ?? []) as Document[];
  let n = 0;
  const writeErrors = runBatch(statements, command.ordered !== false, (statement) => {
    if (!coll) return;
    const limit = Number(statement.limit ?? 0) === 1 ? 1 : Infinity;
    for (const doc of matchingDocuments(coll, statement.q as Document | undefined, limit)) {
      deleteDocument(state.oplog, coll, doc);
      n++;
    }
  });
  return writeErrors.length > 0 ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
};

export const writeCommands: Record<string, CommandHandler> = { insert, update, delete: remove };
