/**
 * One log line per kind per interval for events a client can repeat at will (refusals, closes
 * of slow clients, failed key fetches): the first is written as it happens, the rest of the
 * interval only counted, and one line at its end says how many more there were. Metrics still
 * count every one; only the log is spared.
 */
export class LogThrottle<Kind extends string> {
  readonly #windows = new Map<Kind, { endsAt: number; suppressed: number }>();

  constructor(
    private readonly intervalMs: number,
    /** Writes the summary of `suppressed` more `kind` events once their interval ends. */
    private readonly summarize: (kind: Kind, suppressed: number, intervalMs: number) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when this event gets a line of its own; false when it is only counted. */
  admit(kind: Kind): boolean {
    const now = this.now();
    const window = this.#windows.get(kind);
    if (window && now < window.endsAt) {
      if (window.suppressed++ === 0) this.#summarizeAt(kind, window.endsAt - now);
      return false;
    }
    this.#windows.set(kind, { endsAt: now + this.intervalMs, suppressed: 0 });
    return true;
  }

  #summarizeAt(kind: Kind, delayMs: number): void {
    const timer = setTimeout(() => {
      const window = this.#windows.get(kind);
      if (!window) return;
      this.#windows.delete(kind); // the next event starts a new interval with a line of its own
      this.summarize(kind, window.suppressed, this.intervalMs);
    }, delayMs);
    timer.unref(); // a pending summary never keeps the process alive
  }
}
