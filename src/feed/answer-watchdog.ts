/** The change stream gave no answer for too long: it is replaced from its last position. */
export class StreamStuck extends Error {
  override get name(): string {
    return "StreamStuck";
  }

  constructor(readonly ms: number) {
    super(`the change stream gave no answer for ${ms} ms; starting a new one from its last position`);
  }
}

/**
 * Gives up on a change stream's next answer when it takes longer than `stuckAfterMs`, or than
 * `graceMs` once a new primary is known: the driver's own resume can sit out a whole server
 * selection timeout after a lost primary (it first kills the old cursor on the member that is
 * gone, waiting for that member to come back). The feed then starts a new stream from its position.
 */
export class AnswerWatchdog {
  /** Set while an answer is awaited: what a newly elected primary does to that wait. */
  #onPrimaryElected: (() => void) | undefined;

  constructor(private readonly limits: { stuckAfterMs: number; graceMs: number }) {}

  /** `answer`, or a StreamStuck rejection once it is late. */
  watch<T>(answer: Promise<T>): Promise<T> {
    const { promise: stuck, reject } = Promise.withResolvers<never>();
    const { stuckAfterMs, graceMs } = this.limits;
    let timer = setTimeout(() => reject(new StreamStuck(stuckAfterMs)), stuckAfterMs);
    this.#onPrimaryElected = () => {
      clearTimeout(timer);
      timer = setTimeout(() => reject(new StreamStuck(graceMs)), graceMs);
    };
    answer.catch(() => {}); // a stuck stream's late failure has nobody left to tell
    return Promise.race([answer, stuck]).finally(() => {
      clearTimeout(timer);
      this.#onPrimaryElected = undefined;
    });
  }

  /** A new primary is known: an answer still missing after `graceMs` is not coming. */
  primaryElected(): void {
    this.#onPrimaryElected?.();
  }
}
