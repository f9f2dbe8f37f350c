import type { ChangeFeed } from "./feed/change-feed.ts";
import type { MongoReachability } from "./mongo/reachability.ts";
import type { Observations } from "./observations.ts";

/** Why the server is not ready: the public reason code of /health/ready's 503. */
export type ReadinessReason = "mongodb-unreachable" | "change-stream-down" | "change-stream-stalled";

/** `detail` names addresses and errors: it goes to the log, never into a response. */
export type ReadinessVerdict = { ready: true } | { ready: false; reason: ReadinessReason; detail: string };

export type ReadinessOptions = {
  feed: ChangeFeed;
  reachability: MongoReachability;
  observations: Observations;
  /** A stream that has not heard from MongoDB for this long is stalled (idle getMores return every 250 ms). */
  stalledAfterMs: number;
  now?: () => number;
};

/** Checks run every 50 ms; a gap this long between two means the event loop itself was held up. */
const LOOP_HELD_AFTER_MS = 250;

/**
 * Whether this instance can serve: MongoDB has a writable server, and the change stream is up
 * and making progress. Each `check` reports a change of verdict as an observation.
 */
export class Readiness {
  #last: ReadinessVerdict = { ready: true };
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
    if (verdict.ready !== last.ready || (!verdict.ready && !last.ready && verdict.reason !== last.reason)) {
      this.options.observations.emit({ type: "readiness-changed", ...verdict });
    }
    return verdict;
  }

  #judge(): ReadinessVerdict {
    const { feed, reachability, stalledAfterMs } = this.options;
    if (!reachability.reachable) {
      return { ready: false, reason: "mongodb-unreachable", detail: reachability.problem ?? "no writable MongoDB server is known" };
    }
    if (!feed.isUp) return { ready: false, reason: "change-stream-down", detail: describe(feed.lastError) };
    const silentMs = this.#now() - Math.max(feed.progressedAt, this.#loopResumedAt);
    if (silentMs > stalledAfterMs) {
      return { ready: false, reason: "change-stream-stalled", detail: `no answer from MongoDB for ${Math.round(silentMs)} ms` };
    }
    return { ready: true };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : "not established";
}
