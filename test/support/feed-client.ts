/** A frame as the feed sends it. */
export type FeedFrame =
  | { type: "insert"; position: string; post: { id: string; author: string; content: string; createdAt: string } }
  | { type: "resync"; reason: string };

export type CloseInfo = { code: number; reason: string };

/**
 * A real WebSocket client that records every frame and lets a test await conditions
 * on them (never a sleep): `until(frames => …)` resolves as soon as the condition holds.
 */
export class FeedClient {
  readonly frames: FeedFrame[] = [];
  readonly raw: string[] = [];
  readonly closed: Promise<CloseInfo>;
  #checks = new Set<() => void>();

  private constructor(readonly socket: WebSocket) {
    const { promise, resolve } = Promise.withResolvers<CloseInfo>();
    this.closed = promise;
    socket.addEventListener("message", (event) => {
      this.raw.push(String(event.data));
      this.frames.push(JSON.parse(String(event.data)) as FeedFrame);
      for (const check of this.#checks) check();
    });
    socket.addEventListener("close", (event) => {
      resolve({ code: event.code, reason: event.reason });
      for (const check of this.#checks) check();
    });
  }

  /** Opens a socket; `headers` go with the handshake (e.g. X-Forwarded-For behind a trusted proxy). */
  static async connect(url: string, headers?: Record<string, string>): Promise<FeedClient> {
    const socket = headers ? new WebSocket(url, { headers }) : new WebSocket(url);
    const client = new FeedClient(socket);
    const { promise, resolve, reject } = Promise.withResolvers<FeedClient>();
    socket.addEventListener("open", () => resolve(client), { once: true });
    socket.addEventListener("error", () => reject(new Error(`could not connect to ${url}`)), { once: true });
    return promise;
  }

  get inserts() {
    return this.frames.filter((frame) => frame.type === "insert");
  }

  get lastPosition(): string | undefined {
    return this.inserts.at(-1)?.position;
  }

  /** Resolves when `condition` holds for the frames received so far; rejects after `timeoutMs` or on close. */
  until(condition: (frames: FeedFrame[]) => boolean, timeoutMs = 15_000, what = "frames"): Promise<void> {
    if (condition(this.frames)) return Promise.resolve();
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const timer = setTimeout(
      () => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${this.frames.length} frames`)),
      timeoutMs,
    );
    const check = () => {
      if (condition(this.frames)) finish();
      else if (this.socket.readyState === WebSocket.CLOSED)
        finish(new Error(`socket closed while waiting for ${what}; got ${this.frames.length} frames`));
    };
    const finish = (error?: Error) => {
      clearTimeout(timer);
      this.#checks.delete(check);
      if (error) reject(error);
      else resolve();
    };
    this.#checks.add(check);
    return promise;
  }

  untilInserts(count: number, timeoutMs?: number): Promise<void> {
    return this.until(() => this.inserts.length >= count, timeoutMs, `${count} posts`);
  }

  close(): void {
    this.socket.close();
  }
}
