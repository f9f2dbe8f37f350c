/**
 * One deadline per request (REQUEST_TIMEOUT_MS): everything the request waits on, MongoDB
 * with the driver's retries and the change stream catching up, shares it.
 */
export class Deadline {
  readonly signal: AbortSignal;
  readonly #endsAt: number;

  constructor(ms: number) {
    this.signal = AbortSignal.timeout(ms);
    this.#endsAt = performance.now() + ms;
  }

  get remainingMs(): number {
    return Math.max(0, this.#endsAt - performance.now());
  }
}
