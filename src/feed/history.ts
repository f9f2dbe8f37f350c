import type { Position, ResyncReason } from "../protocol/frames.ts";
import type { PostChange } from "./feed-event.ts";
import { type FrameCache, frameOf } from "./frames.ts";
import { clusterTimeOf, isSnapshotPosition, wallClockMsOf } from "./position.ts";
import { type CompiledFilter, type FrameKind, frameKindFor } from "./routing.ts";

/** A frame of a replay, with its type. */
export type ReplayFrame = { kind: FrameKind; frame: string; position: Position };

/** One delivered change, with its frames as encoded so far: a replay for any filter uses the same ones. */
export type HistoryEntry = { change: PostChange; frames: FrameCache; storedAt: number };

/** The point the history starts after: every event after it and up to now is kept. */
export type HistoryFloor = { position: Position; time: bigint };

export type HistoryLimits = { size: number; ttlMs: number };

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
    this.#evict();
    if (!this.#floor) return "position-unknown";
    if (since === this.#floor.position) return this.#framesFrom(this.#head, filter);

    const sequence = this.#sequenceOf.get(since);
    if (sequence !== undefined) return this.#framesFrom(this.#indexOf(sequence) + 1, filter);

    const time = clusterTimeOf(since);
    if (time === undefined) return "position-unknown";
    if (time < this.#floor.time) return "position-expired";
    if (!isSnapshotPosition(since)) return "position-unknown";
    let index = this.#entries.length;
    while (index > this.#head && this.#entries[index - 1]!.change.time > time) index--;
    return this.#framesFrom(index, filter);
  }

  #framesFrom(index: number, filter: CompiledFilter): ReplayFrame[] {
    const frames: ReplayFrame[] = [];
    for (let at = index; at < this.#entries.length; at++) {
      const { change, frames: cache } = this.#entries[at]!;
      const kind = frameKindFor(change, filter);
      if (kind) frames.push({ kind, frame: frameOf(change, kind, cache), position: change.position });
    }
    return frames;
  }

  #indexOf(sequence: number): number {
    return this.#head + (sequence - (this.#nextSequence - this.size));
  }

  #evict(): void {
    const expiredBefore = this.now() - this.limits.ttlMs;
    while (this.size > 0) {
      const oldest = this.#entries[this.#head]!;
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
