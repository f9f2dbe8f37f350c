/** aggregate: ordinary pipelines (via mingo) and `$changeStream` pipelines. */
import type { Document } from "bson";
import { compareOpTime, fromTimestamp, type OpTime } from "../cluster-clock.ts";
import { ChangeStreamCursor, type StreamScope, type StreamStart } from "../change-stream.ts";
import type { BeforeChangeMode, EventOptions, FullDocumentMode } from "../change-event.ts";
import { CommandError } from "../errors.ts";
import { matchingDocuments, runStages } from "../query.ts";
import { decodeResumeToken, encodeResumeToken } from "../resume-token.ts";
import type { EmulatorState } from "../state.ts";
import type { CommandContext, CommandHandler } from "./context.ts";
import { readStore } from "../read-concern.ts";
import { collStatsDocument } from "./stats.ts";
import { firstBatchReply } from "./find.ts";

/** Stages a change stream pipeline may contain after `$changeStream`. */
const CHANGE_STREAM_STAGES = new Set(["$match", "$project", "$addFields", "$set", "$unset", "$replaceRoot", "$replaceWith", "$redact"]);
const KNOWN_STAGES = new Set([
  ...CHANGE_STREAM_STAGES,
  "$group",
  "$sort",
  "$limit",
  "$skip",
  "$count",
  "$unwind",
  "$lookup",
  "$facet",
  "$bucket",
  "$bucketAuto",
  "$sortByCount",
  "$sample",
  "$out",
  "$merge",
  "$densify",
  "$fill",
  "$setWindowFields",
  "$graphLookup",
  "$unionWith",
  "$documents",
  "$changeStream",
  "$collStats",
  "$indexStats",
  "$currentOp",
  "$geoNear",
  "$listSessions",
]);

function stageName(stage: Document): string {
  return Object.keys(stage)[0] ?? "";
}

function checkStages(stages: Document[], changeStream: boolean): void {
  for (const stage of stages) {
    const name = stageName(stage);
    if (!KNOWN_STAGES.has(name)) throw new CommandError(40324, `Unrecognized pipeline stage name: '${name}'`);
    if (changeStream && !CHANGE_STREAM_STAGES.has(name)) {
      throw new CommandError(ChangeStreamStageNotAllowed, `${name} is not permitted in a $changeStream pipeline`);
    }
  }
}

const ChangeStreamStageNotAllowed = 31001;

const aggregate: CommandHandler = (ctx) => {
  const { command } = ctx;
  const pipeline = (command.pipeline ?? []) as Document[];
  if (!Array.isArray(pipeline)) throw new CommandError(14, "'pipeline' option must be specified as an array");
  const first = pipeline[0];
  if (first && stageName(first) === "$changeStream") {
    if (ctx.state.standalone) throw new CommandError(40573, "The $changeStream stage is only supported on replica sets");
    return openChangeStream(ctx, first.$changeStream as Document, pipeline.slice(1));
  }
  checkStages(pipeline, false);
  const target = command.aggregate;
  const store = readStore(ctx);
  const coll = typeof target === "string" ? store.get(ctx.db, target) : undefined;
  let input = typeof target === "string" ? matchingDocuments(coll, undefined) : [];
  if (first && stageName(first) === "$collStats") {
    input = [collStatsDocument(ctx, coll, first.$collStats as Document)];
    pipeline.shift();
  }
  const resolver = (name: string) => matchingDocuments(store.get(ctx.db, name), undefined);
  const docs = runStages(input, pipeline, resolver);
  const ns = typeof target === "string" ? `${ctx.db}.${target}` : `${ctx.db}.$cmd.aggregate`;
  const cursorOptions = (command.cursor ?? {}) as Document;
  return firstBatchReply(ctx, ns, docs, { batchSize: cursorOptions.batchSize });
};

function scopeOf(ctx: CommandContext, spec: Document): StreamScope {
  const target = ctx.command.aggregate;
  if (typeof target === "string") return { kind: "collection", db: ctx.db, coll: target };
  if (target !== 1) throw new CommandError(2, "aggregate target must be a collection name or 1");
  if (spec.allChangesForCluster === true) {
    if (ctx.db !== "admin") {
      throw new CommandError(
        ChangeStreamStageNotAllowed,
        "$changeStream may only be opened on the 'admin' database if allChangesForCluster is true",
      );
    }
    return { kind: "cluster" };
  }
  if (ctx.db === "admin") {
    throw new CommandError(ChangeStreamStageNotAllowed, "$changeStream may not be opened on the internal admin database");
  }
  return { kind: "database", db: ctx.db };
}

function eventOptions(spec: Document): EventOptions {
  const fullDocument = (spec.fullDocument ?? "default") as FullDocumentMode;
  const fullDocumentBeforeChange = (spec.fullDocumentBeforeChange ?? "off") as BeforeChangeMode;
  if (!["default", "updateLookup", "whenAvailable", "required"].includes(fullDocument)) {
    throw new CommandError(2, `Enumeration value '${String(fullDocument)}' for field '$changeStream.fullDocument' is not a valid value.`);
  }
  if (!["off", "whenAvailable", "required"].includes(fullDocumentBeforeChange)) {
    throw new CommandError(
      2,
      `Enumeration value '${String(fullDocumentBeforeChange)}' for field '$changeStream.fullDocumentBeforeChange' is not a valid value.`,
    );
  }
  return { fullDocument, fullDocumentBeforeChange, showExpandedEvents: spec.showExpandedEvents === true };
}

function previous(time: OpTime): OpTime {
  return time.i > 0 ? { t: time.t, i: time.i - 1 } : { t: time.t - 1, i: 0xffffffff };
}

function historyLost(): CommandError {
  return new CommandError(286, "Resume of change stream was not possible, as the resume point may no longer be in the oplog.");
}

/** Where the stream starts, from resumeAfter / startAfter / startAtOperationTime / now. */
function startOf(state: EmulatorState, spec: Document): StreamStart {
  const { oplog } = state;
  const given = ["resumeAfter", "startAfter", "startAtOperationTime"].filter((k) => spec[k] !== undefined);
  if (given.length > 1) {
    throw new CommandError(40674, "Only one type of resume option is allowed, but multiple were found.");
  }
  const trimmed = oplog.trimmedThrough;
  const tokenSpec = spec.resumeAfter ?? spec.startAfter;
  if (tokenSpec !== undefined) {
    const token = decodeResumeToken(tokenSpec);
    if (token.kind === "invalidate" && spec.resumeAfter !== undefined) {
      throw new CommandError(
        260,
        "Attempting to resume a change stream using 'resumeAfter' is not allowed from an invalidate notification.",
      );
    }
    if (compareOpTime(token.time, trimmed) < 0) throw historyLost();
    const seq = oplog.seqAfter(token.time);
    const start: StreamStart = { seq, token: (tokenSpec as Document)._data as string, time: token.time };
    const resumed = oplog.at(seq - 1);
    if (token.kind === "event" && resumed && compareOpTime(resumed.time, token.time) === 0) {
      if (resumed.op === "drop" || resumed.op === "rename" || resumed.op === "dropDatabase") start.pendingInvalidate = resumed;
    }
    return start;
  }
  if (spec.startAtOperationTime !== undefined) {
    const at = fromTimestamp(spec.startAtOperationTime as never);
    const before = previous(at);
    if (compareOpTime(before, trimmed) < 0) throw historyLost();
    return { seq: oplog.seqAfter(before), token: encodeResumeToken(before, "highWaterMark"), time: before };
  }
  const now = oplog.readableTime;
  return { seq: oplog.readableEndSeq, token: encodeResumeToken(now, "highWaterMark"), time: now };
}

function openChangeStream(ctx: CommandContext, spec: Document, stages: Document[]): Document {
  checkStages(stages, true);
  const { state, command } = ctx;
  const scope = scopeOf(ctx, spec);
  const options = eventOptions(spec);
  const start = startOf(state, spec);
  // startAfter an invalidate: the pending invalidate is not owed again.
  if (spec.startAfter !== undefined) start.pendingInvalidate = undefined;
  const ns = scope.kind === "collection" ? `${scope.db}.${scope.coll}` : `${ctx.db}.$cmd.aggregate`;
  const cursor = new ChangeStreamCursor(state, ns, scope, options, stages, start);
  const batchSize = ((command.cursor ?? {}) as Document).batchSize;
  const batch = cursor.collect(batchSize === undefined ? undefined : Number(batchSize));
  const id = batch.exhausted ? undefined : state.cursors.register(cursor);
  return {
    cursor: {
      firstBatch: batch.docs,
      postBatchResumeToken: batch.postBatchResumeToken,
      id: id ?? 0,
      ns,
    },
    ok: 1,
  };
}

export const aggregateCommands: Record<string, CommandHandler> = { aggregate };
