/** find, getMore, killCursors, count, distinct. */
import { Long, type Document } from "bson";
import { toTimestamp } from "../cluster-clock.ts";
import { ArrayCursor, type Batch, type Cursor } from "../cursors.ts";
import { CommandError } from "../errors.ts";
import { matchingDocuments, shapeResults } from "../query.ts";
import type { EmulatorState } from "../state.ts";
import { getPath, keyOf } from "../values.ts";
import type { CommandContext, CommandHandler } from "./context.ts";
import { readStore } from "../read-concern.ts";

const DEFAULT_BATCH_SIZE = 101;

/** Builds `{cursor: {firstBatch, id, ns}}` and keeps the rest of the results as a cursor. */
export function firstBatchReply(
  ctx: CommandContext,
  ns: string,
  docs: Document[],
  options: { batchSize?: unknown; singleBatch?: boolean },
): Document {
  const batchSize = options.batchSize === undefined ? DEFAULT_BATCH_SIZE : Number(options.batchSize);
  const cursor = new ArrayCursor(ns, docs);
  // batchSize 0 means "open the cursor, return nothing yet".
  const first = batchSize === 0 ? { docs: [], exhausted: docs.length === 0 } : cursor.next({ batchSize });
  const id = first.exhausted || options.singleBatch ? Long.ZERO : ctx.state.cursors.register(cursor);
  const reply: Document = { cursor: { firstBatch: first.docs, id, ns }, ok: 1 };
  const readConcern = ctx.command.readConcern as Document | undefined;
  if (readConcern?.level === "snapshot") {
    (reply.cursor as Document).atClusterTime = readConcern.atClusterTime ?? toTimestamp(ctx.state.oplog.clock.current);
  }
  return reply;
}

const find: CommandHandler = (ctx) => {
  const { command } = ctx;
  const name = String(command.find);
  const coll = readStore(ctx).get(ctx.db, name);
  let limit = command.limit === undefined ? 0 : Number(command.limit);
  let singleBatch = command.singleBatch === true;
  if (limit < 0) {
    limit = -limit;
    singleBatch = true;
  }
  const matched = matchingDocuments(coll, command.filter as Document | undefined);
  // {$natural: ±1} is the stored order, forwards or backwards.
  const natural = (command.sort as Document | undefined)?.$natural;
  if (natural !== undefined && Object.keys(command.sort as Document).length === 1) {
    if (Number(natural) < 0) matched.reverse();
    delete command.sort;
  }
  const docs = shapeResults(matched, {
    sort: command.sort as Document | undefined,
    skip: command.skip === undefined ? 0 : Number(command.skip),
    limit,
    projection: command.projection as Document | undefined,
  });
  let batchSize = command.batchSize;
  if (limit > 0 && (batchSize === undefined || Number(batchSize) > limit)) batchSize = limit;
  return firstBatchReply(ctx, `${ctx.db}.${name}`, docs, { batchSize, singleBatch });
};

function batchReply(state: EmulatorState, cursor: Cursor, batch: Batch): Document {
  if (batch.exhausted) state.cursors.forget(cursor);
  const body: Document = { nextBatch: batch.docs, id: batch.exhausted ? Long.ZERO : cursor.id, ns: cursor.ns };
  if (batch.postBatchResumeToken) body.postBatchResumeToken = batch.postBatchResumeToken;
  return { cursor: body, ok: 1 };
}

const getMore: CommandHandler = (ctx) => {
  const { command, state } = ctx;
  const id = command.getMore as Long | number;
  const cursor = state.cursors.get(id);
  const expectedNs = `${ctx.db}.${String(command.collection)}`;
  if (cursor.ns !== expectedNs && !cursor.isChangeStream) {
    throw new CommandError(13, `Requested getMore on namespace '${expectedNs}', but cursor belongs to a different namespace ${cursor.ns}`);
  }
  const failure = state.failPoints.checkGetMoreAfterCheckout();
  if (failure?.errorCode !== undefined) {
    throw new CommandError(failure.errorCode, "Failing command via 'failGetMoreAfterCursorCheckout' failpoint", failure.errorLabels);
  }
  const batchSize = command.batchSize === undefined ? undefined : Number(command.batchSize);
  const maxTimeMS = command.maxTimeMS === undefined ? undefined : Number(command.maxTimeMS);
  const batch = cursor.next({ batchSize, maxTimeMS, signal: ctx.connection.signal });
  if (batch instanceof Promise) return batch.then((b) => batchReply(state, cursor, b));
  return batchReply(state, cursor, batch);
};

const killCursors: CommandHandler = (ctx) => {
  const ids = (ctx.command.cursors ?? []) as (Long | number)[];
  const cursorsKilled: (Long | number)[] = [];
  const cursorsNotFound: (Long | number)[] = [];
  for (const id of ids) (ctx.state.cursors.kill(id) ? cursorsKilled : cursorsNotFound).push(id);
  return { cursorsKilled, cursorsNotFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
};

const count: CommandHandler = (ctx) => {
  const { command } = ctx;
  const coll = readStore(ctx).get(ctx.db, String(command.count));
  let n = matchingDocuments(coll, command.query as Document | undefined).length;
  const skip = Number(command.skip ?? 0);
  n = Math.max(0, n - skip);
  const limit = Math.abs(Number(command.limit ?? 0));
  if (limit > 0) n = Math.min(n, limit);
  return { n, ok: 1 };
};

const distinct: CommandHandler = (ctx) => {
  const { command } = ctx;
  const coll = readStore(ctx).get(ctx.db, String(command.distinct));
  const key = String(command.key);
  const seen = new Map<string, unknown>();
  for (const doc of matchingDocuments(coll, command.query as Document | undefined)) {
    const value = getPath(doc, key);
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) if (!seen.has(keyOf(v))) seen.set(keyOf(v), v);
  }
  return { values: [...seen.values()], ok: 1 };
};

export const findCommands: Record<string, CommandHandler> = { find, getMore, killCursors, count, distinct };
