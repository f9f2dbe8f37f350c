/**
 * Something that changes: whoever records a frame, a log line or an observation calls `changed()`,
 * and every pending `waitUntil` on it looks again.
 */
export class Changes {
  #listeners = new Set<() => void>();

  changed = (): void => {
    for (const listener of this.#listeners) listener();
  };

  /** Calls `listener` on every change until the returned function is called. */
  listen(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

export type WaitOptions = {
  timeoutMs?: number;
  /** What was seen instead, added to the timeout message (e.g. "got 3 frames"). */
  seen?: () => string;
};

/** "Not yet": any other value ends the wait with that value. */
type NotYet = undefined | null | false;

/**
 * The one way tests wait: resolves with the first value `check` returns that is not
 * undefined, null or false, checking now and again on each change; rejects with what `check`
 * throws (e.g. "the socket closed first") or, after `timeoutMs`, with a message naming `what`.
 */
export function waitUntil<T>(
  changes: Changes,
  what: string,
  check: () => T | NotYet,
  { timeoutMs = 15_000, seen }: WaitOptions = {},
): Promise<Exclude<T, NotYet>> {
  const { promise, resolve, reject } = Promise.withResolvers<Exclude<T, NotYet>>();
  let settled = false;
  const finish = (settle: () => void) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    stop();
    settle();
  };
  const look = () => {
    if (settled) return;
    let value: T | NotYet;
    try {
      value = check();
    } catch (error) {
      return finish(() => reject(error));
    }
    if (value !== undefined && value !== null && value !== false) finish(() => resolve(value as Exclude<T, NotYet>));
  };
  const timer = setTimeout(
    () => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${seen ? `; ${seen()}` : ""}`))),
    timeoutMs,
  );
  const stop = changes.listen(look);
  look();
  return promise;
}
