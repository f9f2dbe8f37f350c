import type { WriteRateLimit } from "../config/config.ts";

/** The policy name in the RateLimit headers. */
const POLICY = "writes";
/** The most identities remembered at once; the least recently seen is forgotten first. */
export const MAX_BUCKETS = 100_000;

/** What one write attempt found: allowed or not, and the headers that describe the bucket. */
export type RateDecision = { allowed: boolean; retryAfterSeconds: number; headers: Record<string, string> };

type Bucket = { tokens: number; updatedAt: number };

/**
 * A token bucket per identity (the token's `sub`, or the client address with auth off):
 * `burst` writes at once, refilled at `perMinute`. Memory is bounded: past `maxBuckets` the
 * least recently used bucket is dropped (an idle one is full anyway, so forgetting it changes
 * nothing; under a flood of identities the oldest get a fresh burst, never more memory).
 * Headers follow draft-ietf-httpapi-ratelimit-headers-10: `RateLimit-Policy: "writes";q=<burst>;w=<seconds
 * to refill it>` and `RateLimit: "writes";r=<writes left>;t=<seconds until one more>`.
 */
export class WriteRateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #perMs: number;
  readonly #policy: string;

  constructor(
    private readonly limit: WriteRateLimit,
    private readonly now: () => number = Date.now,
    private readonly maxBuckets = MAX_BUCKETS,
  ) {
    this.#perMs = limit.perMinute / 60_000;
    this.#policy = `"${POLICY}";q=${limit.burst};w=${Math.max(1, Math.ceil((limit.burst * 60) / limit.perMinute))}`;
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one write from `identity`'s bucket. */
  take(identity: string): RateDecision {
    const now = this.now();
    const bucket = this.#buckets.get(identity) ?? { tokens: this.limit.burst, updatedAt: now };
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + (now - bucket.updatedAt) * this.#perMs);
    bucket.updatedAt = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.#buckets.delete(identity); // re-inserted last: the Map's order is least recently used first
    this.#buckets.set(identity, bucket);
    if (this.#buckets.size > this.maxBuckets) {
      const leastRecentlyUsed = this.#buckets.keys().next();
      if (!leastRecentlyUsed.done) this.#buckets.delete(leastRecentlyUsed.value);
    }

    const remaining = Math.floor(bucket.tokens);
    const full = bucket.tokens >= this.limit.burst;
    const nextInSeconds = Math.max(1, Math.ceil((remaining + 1 - bucket.tokens) / this.#perMs / 1000));
    const headers: Record<string, string> = {
      "RateLimit-Policy": this.#policy,
      RateLimit: `"${POLICY}";r=${remaining}${full ? "" : `;t=${nextInSeconds}`}`,
    };
    if (!allowed) headers["Retry-After"] = String(nextInSeconds);
    return { allowed, retryAfterSeconds: allowed ? 0 : nextInSeconds, headers };
  }
}
