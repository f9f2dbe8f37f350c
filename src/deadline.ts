/** The reason a request's deadline aborts with (not named "TimeoutError": the driver rewrites those). */
export class DeadlineExceeded extends Error {
  override readonly name = "DeadlineExceeded";

  constructor(readonly ms: number) {
    super(`no answer within the request's deadline of ${ms} ms`);
  }
}

/**
 * One deadline per request (REQUEST_TIMEOUT_MS): everything the request waits on, MongoDB
 * with the driver's retries and the change stream catching up, shares it.
 */
export class Deadline {
  readonly #controller = new AbortController();
  readonly #endsAt: number;

  constructor(ms: number) {
    this.#endsAt = performance.now() + ms;
    setTimeout(() => this.#controller.abort(new DeadlineExceeded(ms)), ms).unref();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get remainingMs(): number {
    return Math.max(0, this.#endsAt - performance.now());
  }
}
