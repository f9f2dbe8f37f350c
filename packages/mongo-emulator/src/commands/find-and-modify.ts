/** findAndModify: update, replace, upsert or remove one document and return it (before or after). */
import type { Document } from "bson";
import { matchingDocuments, shapeResults } from "../query.ts";
import { commitUpdate, computeUpdate, deleteDocument, insertDocument, isReplacement, upsertSeed, withIdFirst } from "../writes.ts";
import type { CommandHandler } from "./context.ts";

const findAndModify: CommandHandler = (ctx) => {
  const { command, state } = ctx;
  const name = String(command.findAndModify ?? command.findandmodify);
  let coll = state.store.get(ctx.db, name);
  const filter = command.query as Document | undefined;
  let candidates = matchingDocuments(coll, filter);
  if (command.sort) candidates = shapeResults(candidates, { sort: command.sort as Document });
  const target = candidates[0];
  const project = (doc: Document | null): Document | null =>
    doc && command.fields ? (shapeResults([doc], { projection: command.fields as Document })[0] ?? null) : doc;

  if (command.remove === true) {
    if (target && coll) deleteDocument(state.oplog, coll, target);
    return { lastErrorObject: { n: target ? 1 : 0 }, value: project(target ?? null), ok: 1 };
  }
  const modifier = command.update as Document | Document[];
  const arrayFilters = command.arrayFilters as Document[] | undefined;
  if (target && coll) {
    const change = computeUpdate(target, modifier, arrayFilters, false, filter);
    if (change) commitUpdate(state.oplog, coll, target, change);
    const after = change?.after ?? target;
    return {
      lastErrorObject: { n: 1, updatedExisting: true },
      value: project(command.new === true ? after : target),
      ok: 1,
    };
  }
  if (command.upsert !== true) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
  coll ??= state.store.ensure(ctx.db, name);
  const seedFields = upsertSeed(filter);
  if (!("_id" in seedFields) && isReplacement(modifier) && "_id" in modifier) seedFields._id = modifier._id;
  const seed = withIdFirst(seedFields);
  const doc = computeUpdate(seed, modifier, arrayFilters, true)?.after ?? seed;
  insertDocument(state.oplog, coll, doc);
  return {
    lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id },
    value: project(command.new === true ? doc : null),
    ok: 1,
  };
};

export const findAndModifyCommands: Record<string, CommandHandler> = { findAndModify, findandmodify: findAndModify };
