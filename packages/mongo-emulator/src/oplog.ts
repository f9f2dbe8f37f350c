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
  /** Only in a replica set: the document after an update, so secondaries store it without re-running the update. */
  replicatedDocument?: Document;
}

export interface OplogEntry extends OplogWrite {
  time: OpTime;
  /** In a replica set: the term of the primary that wrote it (the `t` of its optime). */
  term?: number;
  clusterTime: Timestamp;
  wallTime: Date;
  /** The event's resume token `_data`. */
  token: string;
}

type Waiter = () => void;

/** Bounded, append-only history with absolute sequence numbers (index = seq - firstSeq). */
export class Oplog {
  #entries: OplogEntry[] = [];
  #firstSeq = 0;
  /**
   * The oldest resumable point: the newest trimmed entry's time, or just before startup (like a
   * fresh replica set's oplog). Resuming from before it means the history was lost.
   */
  #trimmedThrough: OpTime;
  #waiters = new Set<Waiter>();

  readonly #slack: number;
  #lastTime: OpTime;
  /** In a replica set: the term this member's writes are made in while it is primary. */
  term = 1;
  /** In a replica set: how far readers (change streams) may see, the majority commit point on this member. */
  #committed: { endSeq: number; time: OpTime } | undefined;
  /** While a secondary applies an entry: the entry the next append records instead of a new one. */
  #replaying: OplogEntry | undefined;

  constructor(
    readonly historyLimit: number,
    /** Shared by every member of a replica set. */
    readonly clock = new ClusterClock(),
    /** Updates record the whole new document for secondaries. */
    readonly feedsSecondaries = false,
  ) {
    this.#slack = Math.min(4096, Math.floor(historyLimit / 8));
    this.#trimmedThrough = { t: this.clock.current.t, i: 0 };
    this.#lastTime = this.clock.current;
  }

  /** The time of the newest entry in this oplog (a secondary's last applied optime). */
  get lastTime(): OpTime {
    return this.#lastTime;
  }

  /** End of what readers may see: every entry alone, or the majority-committed prefix in a replica set. */
  get readableEndSeq(): number {
    return this.#committed ? Math.min(this.#committed.endSeq, this.endSeq) : this.endSeq;
  }

  /** The latest time readers may see (the cluster time alone, the commit point on this member in a set). */
  get readableTime(): OpTime {
    return this.#committed ? this.#committed.time : this.clock.current;
  }

  /** Whether this oplog holds a write at `time` (true for times before its retained history: it cannot tell). */
  contains(time: OpTime): boolean {
    const first = this.#entries[0];
    if (!first || compareOpTime(time, first.time) < 0) return true;
    return this.entryAt(time) !== undefined;
  }

  /** The entry written at exactly `time`, if this oplog holds it. */
  entryAt(time: OpTime): OplogEntry | undefined {
    const entry = this.at(this.seqAfter(time) - 1);
    return entry && compareOpTime(entry.time, time) === 0 ? entry : undefined;
  }

  /** Entry by sequence number if readers may see it. */
  readable(seq: number): OplogEntry | undefined {
    return seq < this.readableEndSeq ? this.at(seq) : undefined;
  }

  /** Moves the commit point on this member (never past what it holds) and wakes readers. */
  commitThrough(time: OpTime): void {
    const through = compareOpTime(time, this.#lastTime) < 0 ? time : this.#lastTime;
    if (this.#committed && compareOpTime(through, this.#committed.time) <= 0) return;
    this.#committed = { endSeq: this.seqAfter(through), time: through };
    this.notify();
  }

  /** Runs `apply` so that the one write it logs is recorded as `entry` (a secondary applying the primary's oplog). */
  replay(entry: OplogEntry, apply: () => void): void {
    this.#replaying = entry;
    try {
      apply();
    } finally {
      if (this.#replaying) this.#record(entry); // the apply logged nothing itself
      this.#replaying = undefined;
    }
  }

  /** Replaces this oplog's history with a copy of another's (an initial sync). */
  copyFrom(source: Oplog): void {
    this.#entries = source.#entries.slice();
    this.#firstSeq = source.#firstSeq;
    this.#trimmedThrough = source.#trimmedThrough;
    this.#lastTime = source.#lastTime;
    this.#committed = source.#committed && { ...source.#committed };
    this.notify();
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
    const replaying = this.#replaying;
    if (replaying) {
      this.#replaying = undefined;
      this.#record(replaying);
      return replaying;
    }
    const time = this.clock.tick();
    const entry: OplogEntry = {
      ...write,
      time,
      clusterTime: toTimestamp(time),
      wallTime: new Date(),
      token: encodeResumeToken(time, "event"),
    };
    if (this.feedsSecondaries) entry.term = this.term;
    this.#record(entry);
    return entry;
  }

  #record(entry: OplogEntry): void {
    this.#entries.push(entry);
    this.#lastTime = entry.time;
    if (this.#entries.length > this.historyLimit + this.#slack) this.#trim();
    this.notify();
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
