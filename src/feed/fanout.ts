import type { Observations } from "../observability/observations.ts";
import type { ResyncReason } from "../protocol/frames.ts";
import type { PostChange } from "./feed-event.ts";
import type { FilterIndex } from "./filter-index.ts";
import { type FrameCache, frameOf, resyncFrame } from "./frame-encoding.ts";
import type { FeedHistory, HistoryFloor } from "./history.ts";
import type { Publisher } from "./publisher.ts";
import { frameKindFor } from "./frame-kind.ts";

export type FanoutOptions = { history: FeedHistory; filters: FilterIndex; publisher: Publisher; observations: Observations };

/** Frames sent by one broadcast, by frame type, and their bytes. */
export type FramesSent = { frames: Partial<Record<string, number>>; bytes: number };

/**
 * Hands each change to exactly the filters it concerns: the history first, then for each
 * candidate filter the frame it becomes (each kind encoded once), all in one synchronous
 * step, so a socket opening meanwhile sees every change exactly once. The history's one owner:
 * nobody else appends to it or restarts it.
 */
export class Fanout {
  constructor(private readonly options: FanoutOptions) {}

  /** Delivers a change and keeps it for replays. */
  deliver(change: PostChange): void {
    this.#publish(change, this.options.history.append(change).frames);
  }

  /** Delivers a change live only: the first change of a fresh history is its floor, not replayable. */
  deliverAsFloor(change: PostChange): void {
    this.startHistoryAt({ position: change.position, time: change.time });
    this.#publish(change, {});
  }

  /** The history starts over at `floor`: nothing at or before it can be replayed (undefined: not yet known). */
  startHistoryAt(floor: HistoryFloor | undefined): void {
    this.options.history.reset(floor);
  }

  /** Undefined when the sockets can take the next event now; otherwise resolves when they can (back-pressure). */
  ready(): Promise<void> | undefined {
    return this.options.publisher.ready?.();
  }

  /** Tells every connection to reload, the history starting over at `floor`. */
  resyncAll(reason: ResyncReason, floor: HistoryFloor | undefined): void {
    this.startHistoryAt(floor);
    const started = performance.now();
    const frame = resyncFrame(reason);
    let sockets = 0;
    for (const topic of this.options.filters.topics()) sockets += this.options.publisher.publish(topic, frame);
    this.#observe(started, { frames: { resync: sockets }, bytes: sockets * Buffer.byteLength(frame) }, reason);
  }

  #publish(change: PostChange, frames: FrameCache): void {
    const started = performance.now();
    const sent: FramesSent = { frames: {}, bytes: 0 };
    for (const subscription of this.options.filters.candidates(change)) {
      const kind = frameKindFor(change, subscription.filter);
      if (!kind) continue;
      const frame = frameOf(change, kind, frames);
      const sockets = this.options.publisher.publish(subscription.topic, frame, change.position);
      sent.frames[kind] = (sent.frames[kind] ?? 0) + sockets;
      sent.bytes += sockets * Buffer.byteLength(frame);
    }
    this.#observe(started, sent);
  }

  #observe(started: number, sent: FramesSent, resync?: ResyncReason): void {
    this.options.observations.emit({ type: "broadcast", durationMs: performance.now() - started, ...sent, ...(resync ? { resync } : {}) });
  }
}
