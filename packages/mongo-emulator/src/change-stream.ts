/**
 * A change stream cursor: a position (oplog sequence number) plus options. getMore returns the
 * moment a matching event is committed (the oplog wakes waiters synchronously), or after maxTimeMS.
 */
import { Long, type Document } from "bson";
import { compareOpTime, type OpTime } from "./cluster-clock.ts";
import type { Batch, Cursor, GetMoreOptions } from "./cursors.ts";
import { buildEvent, invalidateEvent, isVisible, type EventOptions } from "./change-event.ts";
import { CommandError } from "./errors.ts";
import type { OplogEntry } from "./oplog.ts";
import { runStages } from "./query.ts";
import { encodeResumeToken } from "./resume-token.ts";
import type { EmulatorState } from "./state.ts";

export type StreamScope = { kind: "collection"; db: string; coll: string } | { kind: "database"; db: string } | { kind: "cluster" };

/** Default wait of an awaitData getMore without maxTimeMS, like the server. */
const DEFAULT_AWAIT_MS = 1000;
const MAX_BATCH = 10_000;
const INTERNAL_DBS = new Set(["admin", "config", "local"]);

type Role = "skip" | "show" | "showAndInvalidate" | "invalidate";

/** What an oplog entry means to a stream with this scope. */
function roleOf(entry: OplogEntry, scope: StreamScope): Role {
  switch (scope.kind) {
    case "collection":
      if (entry.db !== scope.db) return "skip";
      if (entry.op === "dropDatabase") return "invalidate";
      if (entry.coll !== scope.coll) return "skip";
      return entry.op === "drop" || entry.op === "rename" ? "showAndInvalidate" : "show";
    case "database":
      if (entry.db !== scope.db || entry.coll?.startsWith("system.")) return "skip";
      return entry.op === "dropDatabase" ? "showAndInvalidate" : "show";
    case "cluster":
      return INTERNAL_DBS.has(entry.db) || entry.coll?.startsWith("system.") ? "skip" : "show";
  }
}

export interface StreamStart {
  /** First oplog sequence number to look at. */
  seq: number;
  /** Resume point before any event is returned (becomes the first postBatchResumeToken). */
  token: string;
  time: OpTime;
  /** An invalidate still owed (resumed right after the invalidating event). */
  pendingInvalidate?: OplogEntry;
}

export class ChangeStreamCursor implements Cursor {
  id = Long.ZERO;
  readonly isChangeStream = true;
  #seq: number;
  #token: string;
  #time: OpTime;
  /** Entries at or before the resume point are never shown (a lagging member may hold them later). */
  readonly #startTime: OpTime;
  #pendingInvalidate: OplogEntry | undefined;
  #invalidated = false;
  #killed = false;
  #wake: (() => void) | null = null;

  constructor(
    readonly state: EmulatorState,
    public ns: string,
    readonly scope: StreamScope,
    readonly options: EventOptions,
    readonly stages: Document[],
    start: StreamStart,
  ) {
    this.#seq = start.seq;
    this.#token = start.token;
    this.#time = start.time;
    this.#startTime = start.time;
    this.#pendingInvalidate = start.pendingInvalidate;
  }

  /** Returns what is available now; never waits (used for the aggregate's first batch). */
  collect(batchSize: number | undefined): Batch {
    const limit = batchSize === undefined || batchSize <= 0 ? MAX_BATCH : Math.min(batchSize, MAX_BATCH);
    const { oplog } = this.state;
    if (this.#seq < oplog.firstSeq) {
      throw new CommandError(286, "Resume of change stream was not possible, as the resume point may no longer be in the oplog.");
    }
    const docs: Document[] = [];
    while (docs.length < limit && !this.#invalidated) {
      if (this.#pendingInvalidate) {
        const entry = this.#pendingInvalidate;
        this.#pendingInvalidate = undefined;
        this.#invalidated = true;
        const event = invalidateEvent(entry);
        docs.push(event);
        this.#token = (event._id as Document)._data as string;
        this.#time = entry.time;
        break;
      }
      const entry = oplog.readable(this.#seq);
      if (!entry) break;
      this.#seq++;
      if (compareOpTime(entry.time, this.#startTime) <= 0) continue;
      this.#time = entry.time;
      this.#token = encodeResumeToken(entry.time, "highWaterMark");
      const role = roleOf(entry, this.scope);
      if (role === "skip") continue;
      if (role === "invalidate" || role === "showAndInvalidate") this.#pendingInvalidate = entry;
      if (role === "invalidate" || !isVisible(entry, this.options)) continue;
      const event = this.#transform(buildEvent(entry, this.options, this.state.majority?.store ?? this.state.store), entry);
      this.#token = entry.token;
      if (event) docs.push(event);
    }
    const caughtUp = !this.#pendingInvalidate && oplog.readable(this.#seq) === undefined;
    if (caughtUp && !this.#invalidated) {
      // Nothing more to scan: the resume point is the latest cluster time (a high-water mark),
      // unless the last event is itself the latest write.
      const current = oplog.readableTime;
      if (compareOpTime(current, this.#time) > 0) {
        this.#time = current;
        this.#token = encodeResumeToken(current, "highWaterMark");
      }
    }
    return { docs, exhausted: this.#invalidated, postBatchResumeToken: { _data: this.#token } };
  }

  /** Applies the user's pipeline stages; the resume token (`_id`) must survive them. */
  #transform(event: Document, entry: OplogEntry): Document | undefined {
    if (this.stages.length === 0) return event;
    const out = runStages([event], this.stages)[0];
    if (!out) return undefined;
    const id = out._id as Document | undefined;
    if (!id || id._data !== entry.token) {
      throw new CommandError(
        280,
        "Encountered an event whose _id field, which contains the resume token, was modified by the pipeline. Modifying the _id field of an event makes it impossible to resume the stream from that point. Only transformations that retain the unmodified _id field are allowed.",
        ["NonResumableChangeStreamError"],
      );
    }
    return out;
  }

  next({ batchSize, maxTimeMS, signal }: GetMoreOptions): Batch | Promise<Batch> {
    if (this.#killed) throw new CommandError(43, `cursor id ${this.id.toString()} not found`);
    const batch = this.collect(batchSize);
    if (batch.docs.length > 0 || batch.exhausted) return batch;
    const wait = maxTimeMS === undefined || maxTimeMS <= 0 ? DEFAULT_AWAIT_MS : maxTimeMS;
    return this.#await(batchSize, wait, signal);
  }

  #await(batchSize: number | undefined, waitMS: number, signal: AbortSignal | undefined): Promise<Batch> {
    const { promise, resolve, reject } = Promise.withResolvers<Batch>();
    const timer = this.state.sleep(waitMS, signal);
    let unsubscribe = () => {};
    const finish = (batch: Batch | Error) => {
      unsubscribe();
      timer.cancel();
      this.#wake = null;
      if (batch instanceof Error) reject(batch);
      else resolve(batch);
    };
    const tryCollect = () => {
      if (this.#killed || this.state.closed) return finish(this.#emptyBatch());
      try {
        const batch = this.collect(batchSize);
        if (batch.docs.length > 0 || batch.exhausted) finish(batch);
      } catch (error) {
        finish(error as Error);
      }
    };
    unsubscribe = this.state.oplog.subscribe(tryCollect);
    this.#wake = () => finish(this.#emptyBatch());
    timer.promise.then(() => {
      if (!this.#wake) return;
      if (signal?.aborted) finish(this.#emptyBatch());
      else {
        try {
          finish(this.collect(batchSize));
        } catch (error) {
          finish(error as Error);
        }
      }
    });
    return promise;
  }

  #emptyBatch(): Batch {
    return { docs: [], exhausted: false, postBatchResumeToken: { _data: this.#token } };
  }

  get busy(): boolean {
    return this.#wake !== null;
  }

  /** Killed from any connection: a waiting getMore returns an empty batch; the next one gets CursorNotFound. */
  kill(): void {
    this.#killed = true;
    this.#wake?.();
  }
}
