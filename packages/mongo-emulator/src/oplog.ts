/**
 * The change history: one entry per individual write or DDL operation, each with its own cluster
 * time, bounded to `historyLimit` entries like a capped oplog. Waiters (awaiting change stream
 * getMores) are notified synchronously after every commit.
 */
import type { Document, Timestamp, UUID } from "bson";
import { ClusterClock, compareOpTime, toTimestamp, type OpTime } from "./cluster-clock.ts";
import { encodeResumeToken } from "./resume-token.ts";

export type OplogOp =
  | "insert"
  | "update"
  | "replace"
  | "delete"
  | "drop"
  | "rename"
  | "dropDatabase"
  | "create"
  | "createIndexes"
  | "dropIndexes"
  | "modify";

export interface UpdateDescription {
  updatedFields: Document;
  removedFields: string[];
  truncatedArrays: { field: string; newSize: number }[];
  /** Only for paths that are ambiguous (numeric components); sent only with showExpandedEvents. */
  disambiguatedPaths?: Document;
}

/** What a write contributes; the oplog adds the time, wall time and token. */
export interface OplogWrite {
  op: OplogOp;
  db: string;
  coll?: string;
  uuid?: UUID;
  documentKey?: Document;
  /** Inserted / replacing document. */
  fullDocument?: Document;
  updateDescription?: UpdateDescription;
  /** Stored only when the collection has changeStreamPreAndPostImages enabled. */
  preImage?: Document;
  postImage?: Document;
  /** rename target. */
  to?: { db: string; coll: string };
  operationDescription?: Document;
  /** modify events: the collection options before the change. */
  stateBeforeChange?: Document;
}

export interface OplogEntry extends OplogWrite {
  time: OpTime;
  clusterTime: Timestamp;
  wallTime: Date;
  /** The event's resume token `_data`. */
  token: string;
}

type Waiter = () => void;

/** Bounded, append-only history with absolute sequence numbers (index = seq - firstSeq). */
export class Oplog {
  readonly clock = new ClusterClock();
  #entries: OplogEntry[] = [];
  #firstSeq = 0;
  /**
   * The oldest resumable point: the newest trimmed entry's time, or just before startup (like a
   * fresh replica set's oplog). Resuming from before it means the history was lost.
   */
  #trimmedThrough: OpTime;
  #waiters = new Set<Waiter>();

  readonly #slack: number;

  constructor(readonly historyLimit: number) {
    this.#slack = Math.min(4096, Math.floor(historyLimit / 8));
    this.#trimmedThrough = { t: this.clock.current.t, i: 0 };
  }

  /** Sequence number the next entry will get. */
  get endSeq(): number {
    return this.#firstSeq + this.#entries.length;
  }

  get firstSeq(): number {
    return this.#firstSeq;
  }

  get trimmedThrough(): OpTime {
    return this.#trimmedThrough;
  }

  /** Entry by absolute sequence number (undefined if trimmed or not yet written). */
  at(seq: number): OplogEntry | undefined {
    return this.#entries[seq - this.#firstSeq];
  }

  /** Records one write with a fresh cluster time and wakes every waiter. */
  append(write: OplogWrite): OplogEntry {
    const time = this.clock.tick();
    const entry: OplogEntry = {
      ...write,
      time,
      clusterTime: toTimestamp(time),
      wallTime: new Date(),
      token: encodeResumeToken(time, "event"),
    };
    this.#entries.push(entry);
    if (this.#entries.length > this.historyLimit + this.#slack) this.#trim();
    this.notify();
    return entry;
  }

  /** Wakes every waiter (after a commit, or when a cursor is killed). */
  notify(): void {
    if (this.#waiters.size === 0) return;
    for (const waiter of [...this.#waiters]) waiter();
  }

  #trim(): void {
    // Retain between historyLimit and historyLimit + slack entries so trimming stays amortized O(1).
    const removeCount = this.#entries.length - this.historyLimit;
    const last = this.#entries[removeCount - 1];
    if (!last) return;
    this.#trimmedThrough = last.time;
    this.#entries.splice(0, removeCount);
    this.#firstSeq += removeCount;
  }

  /** First sequence number whose entry is strictly after `time` (binary search). */
  seqAfter(time: OpTime): number {
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const entry = this.#entries[mid];
      if (entry && compareOpTime(entry.time, time) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return this.#firstSeq + lo;
  }

  /** Registers a callback run after each commit; returns its unsubscribe function. */
  subscribe(waiter: Waiter): () => void {
    this.#waiters.add(waiter);
    return () => this.#waiters.delete(waiter);
  }
}
