export type BackoffPolicy = { baseMs: number; capMs: number };

export const defaultBackoff: BackoffPolicy = { baseMs: 100, capMs: 10_000 };

/** Capped exponential backoff with jitter: half fixed, half random, so restarts spread out but never hammer. */
export function backoffDelay(attempt: number, policy: BackoffPolicy = defaultBackoff, random = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + (random() * ceiling) / 2;
}

/** Waits `ms`, or less if the signal aborts first; never rejects. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  const { promise, resolve } = Promise.withResolvers<void>();
  const timer = setTimeout(done, ms);
  signal.addEventListener("abort", done, { once: true });
  function done() {
    clearTimeout(timer);
    signal.removeEventListener("abort", done);
    resolve();
  }
  return promise;
}
