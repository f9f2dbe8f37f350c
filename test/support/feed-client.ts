import type { FeedFrame } from "../../src/protocol/frames.ts";
import { Changes, waitUntil } from "./wait-until.ts";

export type { FeedFrame };

/** How to open the socket: subprotocols and headers (Bun's client can send any header, browsers cannot). */
export type ConnectOptions = { protocols?: string[]; headers?: Record<string, string> };

export type CloseInfo = { code: number; reason: string };

/**
 * A real WebSocket client that records every frame and lets a test await conditions
 * on them (never a sleep): `until(frames => …)` resolves as soon as the condition holds.
 */
export class FeedClient {
  readonly frames: FeedFrame[] = [];
  readonly raw: string[] = [];
  readonly closed: Promise<CloseInfo>;
  #changes = new Changes();

  private constructor(readonly socket: WebSocket) {
    const { promise, resolve } = Promise.withResolvers<CloseInfo>();
    this.closed = promise;
    socket.addEventListener("message", (event) => {
      this.raw.push(String(event.data));
      this.frames.push(JSON.parse(String(event.data)) as FeedFrame);
      this.#changes.changed();
    });
    socket.addEventListener("close", (event) => {
      resolve({ code: event.code, reason: event.reason });
      this.#changes.changed();
    });
  }

  /** Opens a socket; `protocols` and `headers` go with the handshake (Bun's client can send any header, browsers cannot). */
  static async connect(url: string, options: ConnectOptions = {}): Promise<FeedClient> {
    const socket = new WebSocket(url, options as unknown as string[]);
    const client = new FeedClient(socket);
    const { promise, resolve, reject } = Promise.withResolvers<FeedClient>();
    socket.addEventListener("open", () => resolve(client), { once: true });
    socket.addEventListener("error", () => reject(new Error(`could not connect to ${url}`)), { once: true });
    return promise;
  }

  get inserts() {
    return this.frames.filter((frame) => frame.type === "insert");
  }

  /** The subprotocol the server answered with ("" for none). */
  get protocol(): string {
    return this.socket.protocol;
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The position of the last frame that has one: where to reconnect `since`. */
  get lastPosition(): string | undefined {
    return this.frames.findLast((frame) => "position" in frame)?.position;
  }

  /** Resolves when `condition` holds for the frames received so far; rejects after `timeoutMs` or on close. */
  async until(condition: (frames: FeedFrame[]) => boolean, timeoutMs = 15_000, what = "frames"): Promise<void> {
    const got = () => `got ${this.frames.length} frames`;
    await waitUntil(
      this.#changes,
      what,
      () => {
        if (condition(this.frames)) return true;
        if (this.socket.readyState === WebSocket.CLOSED) throw new Error(`socket closed while waiting for ${what}; ${got()}`);
      },
      { timeoutMs, seen: got },
    );
  }

  untilInserts(count: number, timeoutMs?: number): Promise<void> {
    return this.until(() => this.inserts.length >= count, timeoutMs, `${count} posts`);
  }

  close(): void {
    this.socket.close();
  }
}
