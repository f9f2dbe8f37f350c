import type { MongoReachability } from "../mongo/reachability.ts";
import type { Observations } from "../observability/observations.ts";
import type { ReadinessReason, ReadinessVerdict } from "./readiness-verdict.ts";

export type { ReadinessReason, ReadinessVerdict } from "./readiness-verdict.ts";

/** What readiness needs to know of the change stream (the ChangeFeed provides it). */
export type StreamProgress = {
  readonly isUp: boolean;
  readonly lastError: unknown;
  /** performance.now() of the last answer from MongoDB on the stream. */
  readonly progressedAt: number;
};

export type ReadinessOptions = {
  feed: StreamProgress;
  reachability: MongoReachability;
  observations: Observations;
  /** A stream that has not heard from MongoDB for this long is stalled (idle getMores return every 250 ms). */
  stalledAfterMs: number;
  now?: () => number;
};

/** Checks run every 50 ms; a gap this long between two means the event loop itself was held up. */
const LOOP_HELD_AFTER_MS = 250;

/**
 * Whether this instance can serve: MongoDB answers, and the change stream is up and making
 * progress. Without a primary it still serves (the feed streams; writes wait for the election)
 * unless its stream is the one waiting. Each `check` reports a change of verdict as an observation.
 */
export class Readiness {
  #last: ReadinessVerdict = { ready: true, primary: true };
  #lastCheckAt: number | undefined;
  /** When the event loop last came back from being held up: the stream's silence is counted from then at the earliest. */
  #loopResumedAt = Number.NEGATIVE_INFINITY;
  readonly #now: () => number;

  constructor(private readonly options: ReadinessOptions) {
    this.#now = options.now ?? (() => performance.now());
  }

  check(): ReadinessVerdict {
    // A getMore's answer cannot be read while the event loop is busy (a huge broadcast, a GC):
    // silence then is this process's, not MongoDB's, so it does not count as a stall.
    const now = this.#now();
    if (this.#lastCheckAt !== undefined && now - this.#lastCheckAt > LOOP_HELD_AFTER_MS) this.#loopResumedAt = now;
    this.#lastCheckAt = now;
    const verdict = this.#judge();
    const last = this.#last;
    this.#last = verdict;
    if (changed(last, verdict)) {
      this.options.observations.emit({ type: "readiness-changed", ...verdict });
    }
    return verdict;
  }

  #judge(): ReadinessVerdict {
    const { feed, reachability, stalledAfterMs } = this.options;
    if (!reachability.reachable) {
      return { ready: false, reason: "mongodb-unreachable", detail: reachability.problem ?? "no MongoDB server answers" };
    }
    // Without a primary a stream that reads from one waits for the election: that, not the stream, is the cause.
    const cause = (streamProblem: ReadinessReason, detail: string): ReadinessVerdict =>
      reachability.hasPrimary
        ? { ready: false, reason: streamProblem, detail }
        : { ready: false, reason: "no-primary", detail: `no primary (${reachability.problem ?? "an election is under way"}); ${detail}` };
    if (!feed.isUp) return cause("change-stream-down", describe(feed.lastError));
    const silentMs = this.#now() - Math.max(feed.progressedAt, this.#loopResumedAt);
    if (silentMs > stalledAfterMs) return cause("change-stream-stalled", `no answer from MongoDB for ${Math.round(silentMs)} ms`);
    return { ready: true, primary: reachability.hasPrimary };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : "not established";
}

/** A change worth reporting: ready or not, the reason why not, or whether writes can go through. */
function changed(last: ReadinessVerdict, next: ReadinessVerdict): boolean {
  if (last.ready !== next.ready) return true;
  if (!last.ready && !next.ready) return last.reason !== next.reason;
  return last.ready && next.ready && last.primary !== next.primary;
}
