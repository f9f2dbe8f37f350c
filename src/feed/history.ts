import type { Position, ResyncReason } from "../protocol/frames.ts";
import type { PostChange } from "./feed-event.ts";
import { type FrameCache, frameOf } from "./frame-encoding.ts";
import { clusterTimeOf, isSnapshotPosition, wallClockMsOf } from "./position.ts";
import { type CompiledFilter, type FrameKind, frameKindFor } from "./frame-kind.ts";

/** A frame of a replay, with its type and its event's position (where a replay resumes after it). */
export type ReplayFrame = { kind: FrameKind; frame: string; position: Position };

/** Part of a replay: up to a number of frames, the position the scan reached, and whether it reached the newest event. */
export type ReplayChunk = { frames: ReplayFrame[]; through: Position; done: boolean };

/** One delivered change, with its frames as encoded so far: a replay for any filter uses the same ones. */
export type HistoryEntry = { change: PostChange; frames: FrameCache; storedAt: number };

/** The point the history starts after: every event after it and up to now is kept. */
export type HistoryFloor = { position: Position; time: bigint };

export type HistoryLimits = { size: number; ttlMs: number };

/** What a reader of the history may see; only the fan-out changes it. */
export type HistoryView = Pick<FeedHistory, "floor" | "size" | "newestPosition" | "isTooOld">;

/**
 * Recent feed events, bounded by count and age, so reconnecting clients get exactly what
 * they missed. Entries are in commit order; positions map to sequence numbers so a
 * lookup is O(1) and a replay is one pass, filtered by the same rule as live delivery.
 */
export class FeedHistory {
  #entries: HistoryEntry[] = [];
  #head = 0; // index of the oldest live entry; the array is compacted lazily
  #sequenceOf = new Map<Position, number>();
  #nextSequence = 0;
  #floor: HistoryFloor | undefined;

  constructor(
    private readonly limits: HistoryLimits,
    private readonly now: () => number = Date.now,
  ) {}

  get floor(): HistoryFloor | undefined {
    return this.#floor;
  }

  get size(): number {
    return this.#entries.length - this.#head;
  }

  /** The newest event's position, or the floor when there is none. */
  get newestPosition(): Position | undefined {
    return this.#entries.at(-1)?.change.position ?? this.#floor?.position;
  }

  /** True when an event at cluster time `time` is older than the history keeps events (by the clock). */
  isTooOld(time: bigint): boolean {
    return wallClockMsOf(time) < this.now() - this.limits.ttlMs;
  }

  /** Forgets everything: history restarts after `floor` (or is unusable until one is set). */
  reset(floor: HistoryFloor | undefined): void {
    this.#entries = [];
    this.#head = 0;
    this.#sequenceOf.clear();
    this.#floor = floor;
  }

  /** Keeps a delivered change; returns its entry, whose frame cache the live fan-out fills. */
  append(change: PostChange): HistoryEntry {
    const entry: HistoryEntry = { change, frames: {}, storedAt: this.now() };
    this.#entries.push(entry);
    this.#sequenceOf.set(change.position, this.#nextSequence++);
    this.#evict();
    return entry;
  }

  /** The frames after `since` for `filter` (the same frames live delivery sent), or why the client must resync instead. */
  framesAfter(since: string, filter: CompiledFilter): ReplayFrame[] | ResyncReason {
    const chunk = this.chunkAfter(since, filter, Number.POSITIVE_INFINITY);
    return typeof chunk === "string" ? chunk : chunk.frames;
  }

  /**
   * At most `maxFrames` of the frames after `since` for `filter`: a replay is read in chunks, each
   * resuming where the last stopped, so a socket holds a position rather than a copy of the history.
   */
  chunkAfter(since: string, filter: CompiledFilter, maxFrames: number): ReplayChunk | ResyncReason {
    const index = this.#indexAfter(since);
    return typeof index === "string" ? index : this.#framesFrom(index, filter, maxFrames, since);
  }

  /** The index of the first entry after `since`, or why there is none to start from. */
  #indexAfter(since: string): number | ResyncReason {
    this.#evict();
    if (!this.#floor) return "position-unknown";
    if (since === this.#floor.position) return this.#head;

    const sequence = this.#sequenceOf.get(since);
    if (sequence !== undefined) return this.#indexOf(sequence) + 1;

    const time = clusterTimeOf(since);
    if (time === undefined) return "position-unknown";
    if (time < this.#floor.time) return "position-expired";
    if (!isSnapshotPosition(since)) return "position-unknown";
    let index = this.#entries.length;
    while (index > this.#head && this.#entryAt(index - 1).change.time > time) index--;
    return index;
  }

  #framesFrom(index: number, filter: CompiledFilter, maxFrames: number, since: Position): ReplayChunk {
    const frames: ReplayFrame[] = [];
    let through = since;
    let at = index;
    for (; at < this.#entries.length && frames.length < maxFrames; at++) {
      const { change, frames: cache } = this.#entryAt(at);
      through = change.position;
      const kind = frameKindFor(change, filter);
      if (kind) frames.push({ kind, frame: frameOf(change, kind, cache), position: change.position });
    }
    return { frames, through, done: at >= this.#entries.length };
  }

  /** The entry at `index`, which callers only ask for between the head and the end. */
  #entryAt(index: number): HistoryEntry {
    const entry = this.#entries[index];
    if (!entry) throw new RangeError(`the history has no entry at ${index} (head ${this.#head}, length ${this.#entries.length})`);
    return entry;
  }

  #indexOf(sequence: number): number {
    return this.#head + (sequence - (this.#nextSequence - this.size));
  }

  #evict(): void {
    const expiredBefore = this.now() - this.limits.ttlMs;
    while (this.size > 0) {
      const oldest = this.#entryAt(this.#head);
      if (this.size <= this.limits.size && oldest.storedAt >= expiredBefore) break;
      this.#sequenceOf.delete(oldest.change.position);
      this.#floor = { position: oldest.change.position, time: oldest.change.time };
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }
}
