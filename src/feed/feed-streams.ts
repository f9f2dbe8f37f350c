import type { Identity } from "../auth/identity.ts";
import type { Observations } from "../observability/observations.ts";
import { CloseCodes } from "../protocol/close-codes.ts";
import type { FeedFilter } from "../protocol/filter.ts";
import type { ResyncReason } from "../protocol/frames.ts";
import type { ConnectionCaps } from "./connection-caps.ts";
import type { FilterIndex, Subscription } from "./filter-index.ts";
import { resyncFrame } from "./frame-encoding.ts";
import type { FeedHistory } from "./history.ts";
import type { Publisher } from "./publisher.ts";
import { SSE_HEARTBEAT, SSE_PREAMBLE, sseCloseEvent, sseEvent } from "./sse-wire.ts";

/** setTimeout's longest delay (about 24.8 days); a later expiry is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a new event stream asks for, already validated and placed by the route. */
export type StreamRequest = {
  since: string | undefined;
  /** Canonical: streams with the same filter share one topic (with the sockets holding it). */
  filter: FeedFilter;
  /** Told instead of a replay when the route already knew `since` cannot be placed. */
  resync?: ResyncReason;
  /** Who opened it (auth on): its token's expiry ends the stream with 4001. */
  identity?: Identity;
  /** Holds a connection-cap slot, which the stream gives back when it ends. */
  clientAddress: string;
  /**
   * Called when the server ends the stream (with a close frame, or dropped): what Bun and the
   * kernel hold may still be leaving, and a reader that stopped reading would hold it, and the
   * connection, forever, so the route bounds how long (Bun lets the connection go then).
   */
  closing?: () => void;
};

/** One open event stream: per-connection state lives on the connection. */
export type FeedStream = {
  readonly controller: ReadableStreamDefaultController<Uint8Array>;
  readonly clientAddress: string;
  readonly closing?: () => void;
  subscription?: Subscription;
  identity?: Identity;
  expiryTimer?: ReturnType<typeof setTimeout>;
};

export type FeedStreamsOptions = {
  history: FeedHistory;
  filters: FilterIndex;
  /** Bytes queued for one stream before it is ended with 1013 (WS_SEND_BUFFER_LIMIT). */
  sendBufferLimit: number;
  heartbeatSeconds: number;
  caps: ConnectionCaps;
  observations: Observations;
};

/** What a stream gives back when it ends: a close frame after its queue (code), dropped at once, or the client left. */
type Ending = { code: number; reason: string } | "dropped" | "client-left";

/**
 * The feed's Server-Sent Events side. Bun's topic publish reaches WebSockets only, so this
 * keeps its own subscribers per topic, and each frame is encoded to SSE bytes once per topic
 * and enqueued to every stream. A stream opens (joins its filter, gets its replay,
 * subscribes) in one synchronous step, as a socket does. What a stream has queued is what
 * its reader has not taken yet: past the send-buffer limit it is ended as a slow socket is.
 */
export class FeedStreams implements Publisher {
  readonly #open = new Set<FeedStream>();
  readonly #byTopic = new Map<string, Set<FeedStream>>();
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #limitCheck: ReturnType<typeof setTimeout> | undefined;
  /** This turn's events by topic, each already SSE bytes: written to the streams as one chunk after the turn. */
  readonly #pending = new Map<string, Uint8Array[]>();
  #flush: ReturnType<typeof setImmediate> | undefined;

  constructor(private readonly options: FeedStreamsOptions) {}

  get count(): number {
    return this.#open.size;
  }

  /** Opens a stream: the preamble, the replay after `since` (or a resync), then live frames. */
  open(request: StreamRequest): ReadableStream<Uint8Array> {
    let stream: FeedStream | undefined;
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          stream = { controller, clientAddress: request.clientAddress, ...(request.closing ? { closing: request.closing } : {}) };
          this.#opened(stream, request);
        },
        cancel: () => this.#ended(stream, "client-left"),
      },
      // A high-water mark of 0: `desiredSize` is minus what the reader has not taken yet.
      { highWaterMark: 0, size: (chunk) => chunk?.byteLength ?? 0 },
    );
  }

  /**
   * Encodes the event once for the topic, whatever the number of streams, and writes it with the
   * rest of this turn's events (a getMore batch) as one chunk per stream, as Bun's topic publish
   * sends a turn's frames to a socket together.
   */
  publish(topic: string, frame: string, position?: string): number {
    const subscribers = this.#byTopic.get(topic);
    if (!subscribers || subscribers.size === 0) return 0;
    const bytes = sseEvent(frame, position);
    const pending = this.#pending.get(topic);
    if (pending) pending.push(bytes);
    else this.#pending.set(topic, [bytes]);
    this.#flush ??= setImmediate(() => this.#flushPending());
    return subscribers.size;
  }

  /** Writes this turn's events: before a stream opens (its replay holds them) or ends (they come before its close frame). */
  #flushPending(): void {
    clearImmediate(this.#flush);
    this.#flush = undefined;
    for (const [topic, events] of this.#pending) {
      const chunk = events.length === 1 && events[0] ? events[0] : Buffer.concat(events);
      for (const stream of this.#byTopic.get(topic) ?? []) this.#send(stream, chunk);
    }
    this.#pending.clear();
  }

  /** Bytes queued on all streams together (not yet taken by their readers); allocates nothing. */
  queuedTotal(): number {
    let total = 0;
    for (const stream of this.#open) total += queuedBytes(stream);
    return total;
  }

  /** Streams with what each has queued (not yet taken by its reader), for the shared send budget. */
  *buffered(): Generator<{ stream: FeedStream; bytes: number }> {
    for (const stream of this.#open) yield { stream, bytes: queuedBytes(stream) };
  }

  /** Ends a stream with a close frame after its queue (1013 when the send budget is exceeded). */
  close(stream: FeedStream, close: { code: number; reason: string } = CloseCodes.serverOverloaded): void {
    this.#ended(stream, close);
  }

  /** Ends a stream at once, discarding its queue. */
  drop(stream: FeedStream): void {
    this.#ended(stream, "dropped");
  }

  /** Ends every stream with a 1001 close frame (shutdown). */
  closeAll(): void {
    this.#flushPending();
    for (const stream of [...this.#open]) this.#ended(stream, CloseCodes.goingAway);
  }

  #opened(stream: FeedStream, request: StreamRequest): void {
    if (this.#pending.size > 0) this.#flushPending(); // those events are in the history: this stream gets them from its replay
    this.#open.add(stream);
    this.options.observations.emit({ type: "event-stream-opened", streams: this.#open.size });
    stream.controller.enqueue(SSE_PREAMBLE);
    if (request.identity) {
      stream.identity = request.identity;
      if (!this.#arm(stream)) return; // its token expired while the stream was placed
    }
    const subscription = this.options.filters.join(request.filter);
    stream.subscription = subscription;
    if (request.since !== undefined && !this.#replay(stream, request.since, request.resync, subscription)) {
      this.#ended(stream, CloseCodes.tryAgainLater, queuedBytes(stream));
      return;
    }
    const subscribers = this.#byTopic.get(subscription.topic) ?? new Set<FeedStream>();
    this.#byTopic.set(subscription.topic, subscribers);
    subscribers.add(stream);
    this.#heartbeat ??= setInterval(() => this.#beat(), this.options.heartbeatSeconds * 1000);
  }

  /** Enqueues what the stream missed after `since` (or a resync); false when the replay passed the send buffer limit. */
  #replay(stream: FeedStream, since: string, resync: StreamRequest["resync"], subscription: Subscription): boolean {
    const replay = resync ?? this.options.history.framesAfter(since, subscription.filter);
    if (typeof replay === "string") {
      const frame = resyncFrame(replay);
      stream.controller.enqueue(sseEvent(frame));
      this.options.observations.emit({ type: "replay", outcome: replay, frames: { resync: 1 }, bytes: Buffer.byteLength(frame) });
      return true;
    }
    const frames: Partial<Record<string, number>> = {};
    let bytes = 0;
    let complete = true;
    for (const { kind, frame, position } of replay) {
      stream.controller.enqueue(sseEvent(frame, position));
      frames[kind] = (frames[kind] ?? 0) + 1;
      bytes += Buffer.byteLength(frame);
      // A long replay is sent in rounds: the client reconnects with its last position (Last-Event-ID).
      if (queuedBytes(stream) > this.options.sendBufferLimit) {
        complete = false;
        break;
      }
    }
    this.options.observations.emit({ type: "replay", outcome: complete ? "replayed" : "cut", frames, bytes });
    return complete;
  }

  /**
   * The response takes enqueued bytes only after this turn of the event loop: a burst (a whole
   * getMore batch) sits in every queue until then, a healthy reader's too. So the limit is
   * checked after the turn, when what is still queued is what the reader has not taken.
   */
  #send(stream: FeedStream, bytes: Uint8Array): void {
    try {
      stream.controller.enqueue(bytes);
    } catch {
      this.#ended(stream, "client-left"); // cancelled under us: the reader is gone
      return;
    }
    this.#limitCheck ??= setTimeout(() => {
      this.#limitCheck = undefined;
      this.enforceSendLimits();
    }, 0);
  }

  /** Ends every stream whose reader left more than the send-buffer limit untaken, with 1013 after its queue. */
  enforceSendLimits(): void {
    for (const stream of this.#open) {
      const queued = queuedBytes(stream);
      if (queued > this.options.sendBufferLimit) this.#ended(stream, CloseCodes.tryAgainLater, queued);
    }
  }

  #beat(): void {
    for (const stream of this.#open) this.#send(stream, SSE_HEARTBEAT);
  }

  /** Arms the expiry timer; false when the token already expired (the stream is ended with 4001). */
  #arm(stream: FeedStream): boolean {
    clearTimeout(stream.expiryTimer);
    if (!stream.identity) return true;
    const delay = stream.identity.expiresAt - Date.now();
    if (delay <= 0) {
      this.#ended(stream, { code: CloseCodes.tokenExpired.code, reason: CloseCodes.tokenExpired.reason });
      return false;
    }
    stream.expiryTimer = setTimeout(() => this.#open.has(stream) && this.#arm(stream), Math.min(delay, MAX_TIMER_MS));
    return true;
  }

  /** Gives everything back, once: topic, filter, timer, connection slot. */
  #ended(stream: FeedStream | undefined, ending: Ending, queued?: number): void {
    if (!stream || !this.#open.has(stream)) return;
    if (typeof ending === "object" && this.#pending.size > 0) this.#flushPending(); // what was published before the close frame
    if (!this.#open.delete(stream)) return;
    const { subscription } = stream;
    if (subscription) {
      stream.subscription = undefined;
      const subscribers = this.#byTopic.get(subscription.topic);
      subscribers?.delete(stream);
      if (subscribers?.size === 0) this.#byTopic.delete(subscription.topic);
      this.options.filters.leave(subscription);
    }
    clearTimeout(stream.expiryTimer);
    this.options.caps.release(stream.clientAddress);
    if (this.#open.size === 0) {
      clearInterval(this.#heartbeat);
      clearTimeout(this.#limitCheck);
      this.#heartbeat = this.#limitCheck = undefined;
      // No stream is left to write this turn's events to.
      clearImmediate(this.#flush);
      this.#flush = undefined;
      this.#pending.clear();
    }
    const code = typeof ending === "string" ? undefined : ending.code;
    if (queued !== undefined) {
      this.options.observations.emit({
        type: "slow-client-closed",
        bufferedBytes: queued,
        limit: this.options.sendBufferLimit,
        dropped: false,
      });
    }
    if (ending !== "client-left")
      this.options.observations.emit({ type: "socket-closed-by-server", code: code ?? CloseCodes.dropped.code });
    this.options.observations.emit({ type: "event-stream-closed", code, streams: this.#open.size });
    try {
      if (ending === "dropped") {
        stream.controller.error(new Error("dropped: the send budget is exceeded")); // frees its queue at once
        stream.closing?.();
      } else if (ending !== "client-left") {
        stream.controller.enqueue(sseCloseEvent(ending));
        stream.controller.close();
        stream.closing?.();
      }
    } catch {
      // the reader is already gone: nothing left to tell it
    }
  }
}

/** Bytes enqueued that the response has not taken yet. */
function queuedBytes(stream: FeedStream): number {
  return Math.max(0, -(stream.controller.desiredSize ?? 0));
}
