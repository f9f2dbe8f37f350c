/**
 * How long Bun may still hold the queue of a socket closed with a close frame: uWS's end()
 * arms the ping timeout (4, 8 or 16 s by idleTimeout, as in WebSocketContextData.h's
 * calculateIdleTimeoutComponents), checked on a 4-second timer tick. No event says when
 * that happens, and `getBufferedAmount()` reads 0 as soon as the socket is closed.
 */
export function closingHoldMs(idleTimeoutSeconds: number): number {
  let margin = 4;
  while (idleTimeoutSeconds - margin * 2 >= margin * 2 && margin < 16) margin *= 2;
  return (margin + 4) * 1000;
}

/** Which open sockets to close with 1013 (their queue is still delivered) and which to drop at once. */
export type Relief<S> = { close: S[]; drop: S[] };

type Held = { bytes: number; until: number };

/**
 * The global send-buffer budget: the bytes queued on open sockets plus the bytes that sockets
 * closing gracefully may still hold stay within `budget`. Past half of it, the sockets holding
 * the most are closed with a close frame (after their queue), as long as the sockets closing
 * hold at most half the budget: a closed socket's queue cannot be freed early. Past the whole
 * budget, the heaviest are dropped outright, which frees their queue at once.
 */
export class SendBudget {
  #held: Held[] = []; // in order of `until`: every hold lasts the same time
  #heldBytes = 0;
  #measured = 0;
  #sinceMeasured = 0;

  constructor(
    readonly budget: number,
    private readonly holdMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Bytes still held by sockets closing gracefully. */
  get closingBytes(): number {
    const now = this.now();
    let oldest = this.#held[0];
    while (oldest && oldest.until <= now) {
      this.#held.shift();
      this.#heldBytes -= oldest.bytes;
      oldest = this.#held[0];
    }
    return this.#heldBytes;
  }

  /**
   * Counts bytes just queued (at most: the kernel takes some); true when they may have taken
   * the total past half the budget, so it is time to measure.
   */
  queued(bytes: number): boolean {
    this.#sinceMeasured += bytes;
    return this.#measured + this.#sinceMeasured + this.closingBytes > this.budget / 2;
  }

  /** A socket was closed with a close frame while `bytes` were queued on it: they count until Bun lets them go. */
  closing(bytes: number): void {
    if (bytes <= 0) return;
    this.#held.push({ bytes, until: this.now() + this.holdMs });
    this.#heldBytes += bytes;
  }

  /** Whether a socket holding `bytes` can still be closed with a close frame: the sockets closing hold at most half the budget. */
  hasRoomToClose(bytes: number): boolean {
    return this.closingBytes + bytes <= this.budget / 2;
  }

  /** Records what the open sockets hold now (measured); true when that takes the total past half the budget. */
  measured(openBytes: number): boolean {
    this.#measured = openBytes;
    this.#sinceMeasured = 0;
    return openBytes + this.closingBytes > this.budget / 2;
  }

  /**
   * Given what each open socket has queued now, the sockets to drop and to close, heaviest
   * first. A socket holding nothing frees nothing: readers that keep up are never chosen.
   * The caller closes them and reports each close with `closing`.
   */
  relieve<S>(open: readonly { socket: S; bytes: number }[]): Relief<S> {
    let openBytes = open.reduce((sum, entry) => sum + entry.bytes, 0);
    this.#measured = openBytes;
    this.#sinceMeasured = 0;
    const relief: Relief<S> = { close: [], drop: [] };
    const half = this.budget / 2;
    const closingBefore = this.closingBytes;
    if (openBytes + closingBefore <= half) return relief;

    const heaviest = open.filter((entry) => entry.bytes > 0).sort((a, b) => b.bytes - a.bytes);
    let closing = closingBefore;
    for (const { socket, bytes } of heaviest) {
      if (openBytes + closingBefore > this.budget) {
        relief.drop.push(socket);
        openBytes -= bytes;
        continue;
      }
      // Each of these stops growing and goes once delivered or timed out: counted as relieved here.
      if (openBytes + closingBefore <= half || closing + bytes > half) break;
      relief.close.push(socket);
      openBytes -= bytes;
      closing += bytes;
    }
    this.#measured = openBytes;
    return relief;
  }
}
