import { EventStreamReader } from "./event-stream-reader.ts";
import { clock, SEQUENCE_MARK } from "./protocol.ts";

const CONNECT_BATCH = 500;

/** A client of either transport: a WebSocket (ws:// URL) or an event stream (http:// URL). */
type Client = { readonly isOpen: boolean; close(): void };

/**
 * The load process's clients: WebSockets, or Server-Sent Events streams for an http:// URL. Each one only counts its frames (parsing them all
 * would make the clients the bottleneck); every `sampleEvery`-th one also notes when each
 * frame arrived and which write it came from (the sequence number in the post's content).
 */
export class SocketGroup {
  #sockets: Client[] = [];
  #frames = 0;
  #closes = 0;
  #closing = false;
  #target = Number.POSITIVE_INFINITY;
  #reached: (() => void) | undefined;
  #lastFrameAt = 0;
  /** Sampled receipts, flat: sequence, time (clock()), sequence, time, ... */
  receipts: number[] = [];

  get frames(): number {
    return this.#frames;
  }

  get closes(): number {
    return this.#closes;
  }

  get open(): number {
    return this.#sockets.filter((socket) => socket.isOpen).length;
  }

  async connect(url: string, count: number, sampleEvery: number): Promise<void> {
    for (let start = 0; start < count; start += CONNECT_BATCH) {
      const batch = Array.from({ length: Math.min(CONNECT_BATCH, count - start) }, (_, k) =>
        this.#open(url, (start + k) % sampleEvery === 0),
      );
      await Promise.all(batch);
    }
  }

  /** Starts a new count (frames and receipts) for a run. */
  reset(): void {
    this.#frames = 0;
    this.#closes = 0;
    this.receipts = [];
    this.#target = Number.POSITIVE_INFINITY;
    this.#lastFrameAt = 0;
  }

  /** Resolves with the time of the frame that made the count reach `target`, or undefined at `deadline` (clock()). */
  async untilFrames(target: number, deadline: number): Promise<number | undefined> {
    this.#target = target;
    if (this.#frames >= target) return this.#lastFrameAt || clock();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#reached = resolve;
    const timer = setTimeout(resolve, Math.max(0, deadline - clock()));
    await promise;
    clearTimeout(timer);
    this.#reached = undefined;
    return this.#frames >= target ? this.#lastFrameAt : undefined;
  }

  close(): void {
    this.#closing = true;
    for (const socket of this.#sockets) socket.close();
    this.#sockets = [];
  }

  #open(url: string, sampled: boolean): Promise<void> {
    if (url.startsWith("http")) return this.#openEventStream(url, sampled);
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const socket = new WebSocket(url);
    socket.onmessage = sampled ? (event) => this.#sampledFrame(event.data) : () => this.#frame();
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error(`could not connect to ${url}`));
    socket.onclose = () => {
      if (!this.#closing) this.#closes++;
    };
    this.#sockets.push({
      get isOpen() {
        return socket.readyState === WebSocket.OPEN;
      },
      close: () => socket.close(),
    });
    return promise;
  }

  async #openEventStream(url: string, sampled: boolean): Promise<void> {
    const onFrame = sampled ? (data: string) => this.#sampledFrame(data) : () => this.#frame();
    const reader = await EventStreamReader.open(url, onFrame, () => {
      if (!this.#closing) this.#closes++;
    });
    this.#sockets.push(reader);
  }

  #frame(): void {
    if (++this.#frames >= this.#target) {
      this.#lastFrameAt = clock();
      this.#reached?.();
    }
  }

  #sampledFrame(data: unknown): void {
    const at = clock();
    if (typeof data === "string") {
      const mark = data.indexOf(SEQUENCE_MARK);
      if (mark >= 0) this.receipts.push(Number.parseInt(data.slice(mark + SEQUENCE_MARK.length, mark + SEQUENCE_MARK.length + 12), 10), at);
    }
    this.#frame();
  }
}
