/** Items waiting for an async iterator: pushed as they come, taken in order, ended once. */
export class ItemQueue<T> {
  /** Kept as the results `next` hands out, so an item that is itself undefined is still an item. */
  readonly #results: IteratorYieldResult<T>[] = [];
  #waiting: ((result: IteratorResult<T>) => void) | undefined;
  #ended = false;

  push(item: T): void {
    if (this.#ended) return;
    const result: IteratorYieldResult<T> = { value: item, done: false };
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting) waiting(result);
    else this.#results.push(result);
  }

  end(): void {
    this.#ended = true;
    this.#waiting?.({ value: undefined, done: true });
    this.#waiting = undefined;
  }

  /** One consumer at a time: items are handed out once. */
  iterate(): AsyncIterator<T> {
    return {
      next: () => {
        const queued = this.#results.shift();
        if (queued) return Promise.resolve(queued);
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.#waiting = resolve;
        });
      },
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
