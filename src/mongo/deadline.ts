/** The reason a request's deadline aborts with (not named "TimeoutError": the driver rewrites those). */
export class DeadlineExceeded extends Error {
  // A getter, not an own property: the driver copies an error's own properties onto its wrappers.
  override get name(): string {
    return "DeadlineExceeded";
  }

  constructor(readonly ms: number) {
    super(`no answer within the request's deadline of ${ms} ms`);
  }
}

/**
 * One deadline per request (REQUEST_TIMEOUT_MS): everything the request waits on, MongoDB
 * with the driver's retries and the change stream catching up, shares it.
 */
export class Deadline implements Disposable {
  readonly #controller = new AbortController();
  readonly #endsAt: number;
  readonly #timer: ReturnType<typeof setTimeout>;

  constructor(ms: number) {
    this.#endsAt = performance.now() + ms;
    this.#timer = setTimeout(() => this.#controller.abort(new DeadlineExceeded(ms)), ms);
    this.#timer.unref();
  }

  /** The request is answered: its timer goes (`using within = new Deadline(ms)`). */
  [Symbol.dispose](): void {
    clearTimeout(this.#timer);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get remainingMs(): number {
    return Math.max(0, this.#endsAt - performance.now());
  }
}
