import type { MongoReachability } from "../mongo/reachability.ts";
import type { Observations } from "../observability/observations.ts";
import type { ReadinessVerdict } from "./readiness-verdict.ts";

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
};

/**
 * Whether this instance can serve: MongoDB has a writable server, and the change stream is up
 * and making progress. Each `check` reports a change of verdict as an observation.
 */
export class Readiness {
  #last: ReadinessVerdict = { ready: true };

  constructor(private readonly options: ReadinessOptions) {}

  check(): ReadinessVerdict {
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
    const silentMs = performance.now() - feed.progressedAt;
    if (silentMs > stalledAfterMs) {
      return { ready: false, reason: "change-stream-stalled", detail: `no answer from MongoDB for ${Math.round(silentMs)} ms` };
    }
    return { ready: true };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : "not established";
}
