import type { ResyncReason } from "../protocol/frames.ts";
import type { PostChange } from "./feed-event.ts";
import type { FilterIndex } from "./filter-index.ts";
import { type FrameCache, frameOf, resyncFrame } from "./frames.ts";
import type { FeedHistory } from "./history.ts";
import type { Publisher } from "./publisher.ts";
import { frameKindFor } from "./routing.ts";

export type FanoutOptions = { history: FeedHistory; filters: FilterIndex; publisher: Publisher };

/**
 * Hands each change to exactly the filters it concerns: the history first, then for each
 * candidate filter the frame it becomes (each kind encoded once), all in one synchronous
 * step, so a socket opening meanwhile sees every change exactly once.
 */
export class Fanout {
  constructor(private readonly options: FanoutOptions) {}

  /** Delivers a change and keeps it for replays. */
  deliver(change: PostChange): void {
    this.#publish(change, this.options.history.append(change).frames);
  }

  /** Delivers a change live only: the first change of a fresh history is its floor, not replayable. */
  deliverLive(change: PostChange): void {
    this.#publish(change, {});
  }

  /** Tells every connection to reload. */
  resyncAll(reason: ResyncReason): void {
    const frame = resyncFrame(reason);
    for (const topic of this.options.filters.topics()) this.options.publisher.publish(topic, frame);
  }

  #publish(change: PostChange, frames: FrameCache): void {
    for (const subscription of this.options.filters.candidates(change)) {
      const kind = frameKindFor(change, subscription.filter);
      if (kind) this.options.publisher.publish(subscription.topic, frameOf(change, kind, frames));
    }
  }
}
