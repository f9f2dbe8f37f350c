import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import type { Observations } from "../observability/observations.ts";

/** The JWKS could not be fetched or read: the server cannot check tokens right now. */
export class KeysUnavailable extends Error {}

export type JwksKeySourceOptions = {
  url: URL;
  /** After a fetch, how long before another may start (AUTH_JWKS_COOLDOWN_SECONDS). */
  cooldownMs: number;
  /** How long one fetch may take. */
  timeoutMs: number;
  /** Keys older than this are fetched again before use, so a withdrawn key stops working. */
  maxAgeMs: number;
  observations: Observations;
  /** Aborting it stops the retries after a failure. */
  signal?: AbortSignal;
  now?: () => number;
};

/** Failed fetches back off from max(cooldown, 1 s), doubling, up to this. */
export const MAX_FAILURE_BACKOFF_MS = 10 * 60_000;
const MIN_FAILURE_BACKOFF_MS = 1_000;
/** A key set is a few KiB; anything this large is not one. */
const MAX_JWKS_BYTES = 1024 * 1024;

/**
 * The identity provider's keys, fetched as rarely as the rules allow: at most one fetch in
 * flight (every token waiting on keys shares it), and at most one per cooldown after a success
 * or per backoff after a failure (doubling with each failure in a row), whatever tokens arrive.
 * A made-up kid therefore never costs the provider a request of its own. After a failure the
 * source retries by itself when the backoff ends, and says when the keys are back.
 * jose's createRemoteJWKSet holds its cooldown only after a success, so the fetching is here and
 * jose picks and imports the key (createLocalJWKSet).
 */
export class JwksKeySource {
  #keys: { select: JWTVerifyGetKey; fetchedAt: number } | undefined;
  #inFlight: Promise<void> | undefined;
  /** No fetch may start before this. */
  #nextFetchAt = 0;
  #failures = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;
  readonly #now: () => number;

  constructor(private readonly options: JwksKeySourceOptions) {
    this.#now = options.now ?? Date.now;
    options.signal?.addEventListener("abort", () => clearTimeout(this.#retry), { once: true });
  }

  /** For jwtVerify: the key for a token's header; throws KeysUnavailable, or jose's errors for a kid no key matches. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (this.#inFlight) await this.#inFlight;
    if (!this.#keys || this.#now() - this.#keys.fetchedAt > this.options.maxAgeMs) await this.#fetchIfAllowed();
    if (!this.#keys) throw new KeysUnavailable();
    try {
      return await this.#keys.select(header, token);
    } catch (error) {
      // An unknown kid may be a rotation: look again, if a fetch is allowed now.
      if (!(error instanceof errors.JWKSNoMatchingKey) || !(await this.#fetchIfAllowed())) throw error;
      return this.#keys.select(header, token);
    }
  };

  /** Joins the fetch in flight, or starts one if the cooldown or backoff has passed; false when none happened. */
  async #fetchIfAllowed(): Promise<boolean> {
    if (this.#inFlight) {
      await this.#inFlight;
      return true;
    }
    if (this.#now() < this.#nextFetchAt) return false;
    this.#inFlight = this.#fetch().finally(() => (this.#inFlight = undefined));
    await this.#inFlight;
    return true;
  }

  async #fetch(): Promise<void> {
    const { url, cooldownMs, observations } = this.options;
    try {
      const set = await this.#download();
      this.#keys = { select: createLocalJWKSet(set), fetchedAt: this.#now() };
      this.#nextFetchAt = this.#now() + cooldownMs;
      if (this.#failures > 0) observations.emit({ type: "jwks-available", url: url.href, failures: this.#failures });
      this.#failures = 0;
    } catch (error) {
      this.#failures++;
      const backoff = Math.min(Math.max(cooldownMs, MIN_FAILURE_BACKOFF_MS) * 2 ** (this.#failures - 1), MAX_FAILURE_BACKOFF_MS);
      this.#nextFetchAt = this.#now() + backoff;
      observations.emit({ type: "jwks-unavailable", url: url.href, error, failures: this.#failures, retryInMs: backoff });
      if (this.options.signal?.aborted) return;
      clearTimeout(this.#retry);
      this.#retry = setTimeout(() => void this.#fetchIfAllowed().catch(() => {}), backoff);
      this.#retry.unref();
    }
  }

  async #download(): Promise<JSONWebKeySet> {
    const response = await fetch(this.options.url, {
      headers: { Accept: "application/json" },
      redirect: "error",
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`the key server answered ${response.status}`);
    }
    if (Number(response.headers.get("content-length") ?? 0) > MAX_JWKS_BYTES) throw new Error("the key set is too large");
    const text = await response.text();
    if (text.length > MAX_JWKS_BYTES) throw new Error("the key set is too large");
    return JSON.parse(text) as JSONWebKeySet;
  }
}
