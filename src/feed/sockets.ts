import type { Server, WebSocketHandler } from "bun";
import type { Observations } from "../observability/observations.ts";
import { CloseCodes } from "../protocol/close-codes.ts";
import type { ConnectionCaps } from "./connection-caps.ts";
import type { FeedStream, FeedStreams } from "./feed-streams.ts";
import type { FilterIndex } from "./filter-index.ts";
import type { FeedHistory } from "./history.ts";
import type { Publisher } from "./publisher.ts";
import { closingHoldMs, SendBudget } from "./send-budget.ts";
import { ReplayStreams } from "./replay-streams.ts";
import type { SocketAuth } from "./socket-auth.ts";
import type { FeedSocket, FeedSocketData } from "./socket-data.ts";

export type FeedSocketsOptions = {
  history: FeedHistory;
  filters: FilterIndex;
  sendBufferLimit: number;
  /** Bytes queued across all sockets (WS_SEND_BUFFER_TOTAL). */
  sendBufferTotal: number;
  idleTimeoutSeconds: number;
  caps: ConnectionCaps;
  /** Token expiry and refresh on authenticated sockets. */
  auth: SocketAuth;
  observations: Observations;
};

/** Bun's send buffers grow by doubling: a queued byte may hold two bytes of memory. */
const MEMORY_PER_QUEUED_BYTE = 2;

/** A WebSocket frame header is at most 10 bytes from the server; a little more covers Bun's bookkeeping. */
const FRAME_OVERHEAD_BYTES = 16;

/**
 * The feed's WebSocket side: on open a socket joins its filter, gets its replay and
 * subscribes to the filter's one topic in one synchronous step (no event can slip between
 * them); after that, frames reach it only through `publish`. Sockets whose send buffer
 * passes the limit are closed with 1013, and so are the heaviest when all of them together
 * pass the budget.
 */
export class FeedSockets implements Publisher {
  readonly #open = new Set<FeedSocket>();
  readonly #budget: SendBudget;
  readonly #replays: ReplayStreams;
  #server: Server<FeedSocketData> | undefined;
  /** The event streams, whose queues count against the same budget. */
  #streams: FeedStreams | undefined;
  /** Set while the budget is under pressure: resolves after Bun copied the frames into the sockets and limits were enforced. */
  #afterCopy: Promise<void> | undefined;

  constructor(private readonly options: FeedSocketsOptions) {
    // The budget is memory; a send buffer may take up to twice what it holds (it grows by doubling).
    this.#budget = new SendBudget(options.sendBufferTotal / MEMORY_PER_QUEUED_BYTE, closingHoldMs(options.idleTimeoutSeconds));
    this.#replays = new ReplayStreams({
      history: options.history,
      observations: options.observations,
      queued: (bytes) => this.#budget.queued(bytes),
      caughtUp: (ws) => {
        if (ws.readyState === 1 && ws.data.subscription) ws.subscribe(ws.data.subscription.topic);
      },
    });
  }

  get count(): number {
    return this.#open.size;
  }

  /** Frames published before a server is attached have no socket to reach; they are in the history. */
  attach(server: Server<FeedSocketData>): void {
    this.#server = server;
  }

  /** The event streams' queued bytes count against the same total, and the heaviest of either kind are relieved first. */
  shareBudgetWith(streams: FeedStreams): void {
    this.#streams = streams;
  }

  publish(topic: string, frame: string): number {
    const server = this.#server;
    if (!server) return 0;
    server.publish(topic, frame);
    const sockets = server.subscriberCount(topic);
    // Bun copies frames under 16 KiB into the sockets only when its topic tree drains, at the end of
    // this turn of the event loop (a timeout runs after that, an immediate before): measure then.
    const mostQueued = (Buffer.byteLength(frame) + FRAME_OVERHEAD_BYTES) * sockets;
    if (this.#budget.queued(mostQueued)) {
      this.#afterCopy ??= new Promise((resolve) =>
        setTimeout(() => {
          this.#afterCopy = undefined;
          this.enforceSendLimits();
          resolve();
        }, 0),
      );
    }
    return sockets;
  }

  /**
   * Undefined when more frames can be published now; under pressure, resolves once the frames
   * published so far are in the sockets and the limits were enforced, so that a burst (a whole
   * getMore batch) never lands in every socket before anything can be checked.
   */
  ready(): Promise<void> | undefined {
    return this.#afterCopy;
  }

  handler(): WebSocketHandler<FeedSocketData> {
    return {
      // Client frames carry at most a token (auth); a small cap refuses oversize ones (close 1009).
      maxPayloadLength: 16 * 1024,
      idleTimeout: this.options.idleTimeoutSeconds,
      sendPings: true,
      // Never let Bun drop a frame silently: a dropped frame followed by a delivered one is a
      // gap the client cannot see. `enforceSendLimits` enforces the limits by closing the socket instead.
      backpressureLimit: 0,
      closeOnBackpressureLimit: false,
      perMessageDeflate: false,
      open: (ws) => this.#opened(ws),
      message: (ws, message) => this.options.auth.message(ws, message),
      drain: (ws) => this.#replays.drained(ws),
      close: (ws, code, reason) => {
        this.#replays.stopped(ws);
        this.#release(ws);
        this.options.auth.closed(ws);
        this.options.caps.release(ws.data.clientAddress);
        if (!this.#open.delete(ws) && ws.data.refusal) return;
        this.options.observations.emit({ type: "socket-closed", code, reason, connections: this.#open.size });
      },
    };
  }

  /**
   * Closes every socket whose queued bytes exceed the limit, then, if all sockets together
   * (closing ones included) hold more than the budget allows, the heaviest: cheap enough to run
   * on a short timer, and run after the turn in which a publish may have passed half the budget.
   */
  enforceSendLimits(): void {
    // The common case allocates nothing: one pass for the per-socket limit and the total.
    let total = 0;
    for (const ws of this.#open) {
      const bytes = ws.getBufferedAmount();
      if (bytes > this.options.sendBufferLimit) this.#closeSlow(ws, bytes);
      else total += bytes;
    }
    // Each stream's own limit is enforced as frames are queued on it.
    total += this.#streams?.queuedTotal() ?? 0;
    const pressed = this.#budget.measured(total);
    this.#replays.resume();
    if (!pressed) return;
    const open: { socket: FeedSocket | FeedStream; bytes: number }[] = [];
    for (const ws of this.#open) open.push({ socket: ws, bytes: ws.getBufferedAmount() });
    const streams = new Set<FeedSocket | FeedStream>();
    for (const entry of this.#streams?.buffered() ?? []) {
      open.push({ socket: entry.stream, bytes: entry.bytes });
      streams.add(entry.stream);
    }
    const closingBytes = this.#budget.closingBytes;
    const relief = this.#budget.relieve(open);
    if (relief.close.length === 0 && relief.drop.length === 0) return;
    this.options.observations.emit({
      type: "send-budget-exceeded",
      bufferedBytes: open.reduce((sum, entry) => sum + entry.bytes, 0),
      closingBytes,
      budget: this.options.sendBufferTotal,
      closed: relief.close.length,
      dropped: relief.drop.length,
    });
    for (const held of relief.drop) {
      if (streams.has(held)) this.#streams?.drop(held as FeedStream);
      else this.#drop(held as FeedSocket);
    }
    for (const held of relief.close) {
      if (!streams.has(held)) this.#close(held as FeedSocket, CloseCodes.serverOverloaded);
      else {
        this.#budget.closing(open.find((entry) => entry.socket === held)?.bytes ?? 0);
        this.#streams?.close(held as FeedStream);
      }
    }
  }

  /** Closes every socket with 1001 (shutdown). */
  closeAll(): void {
    for (const ws of this.#open) {
      this.#release(ws);
      this.#closeWith(ws, CloseCodes.goingAway);
    }
    this.#open.clear();
  }

  #opened(ws: FeedSocket): void {
    const { refusal } = ws.data;
    if (refusal) {
      this.options.observations.emit({ type: "socket-refused", code: refusal.code, reason: refusal.reason });
      this.#closeWith(ws, refusal); // never replayed to, never subscribed
      return;
    }
    this.#open.add(ws);
    this.options.observations.emit({ type: "socket-opened", connections: this.#open.size });
    this.options.auth.opened(ws);
    if (ws.readyState !== 1) return; // its token expired during the handshake
    const subscription = this.options.filters.join(ws.data.filter);
    ws.data.subscription = subscription;
    ws.data.filter = subscription.canonical; // one copy per distinct filter, not one per socket
    // A replay streams as the socket drains; the socket subscribes in the step the replay catches up.
    if (ws.data.since !== undefined) this.#replays.start(ws, ws.data.since, ws.data.resync);
    else ws.subscribe(subscription.topic);
  }

  /** Gives up the socket's subscription, once. */
  #release(ws: FeedSocket): void {
    const { subscription } = ws.data;
    if (!subscription) return;
    ws.data.subscription = undefined;
    ws.unsubscribe(subscription.topic);
    this.options.filters.leave(subscription);
  }

  /** Past its own limit: a close frame after the queue, unless the sockets closing already hold half the budget. */
  #closeSlow(ws: FeedSocket, bufferedBytes: number): void {
    const dropped = !this.#budget.hasRoomToClose(bufferedBytes);
    this.options.observations.emit({ type: "slow-client-closed", bufferedBytes, limit: this.options.sendBufferLimit, dropped });
    if (dropped) this.#drop(ws);
    else this.#close(ws, CloseCodes.tryAgainLater);
  }

  /** No close frame: it would queue behind everything else. The client sees 1006 and resumes with since. */
  #drop(ws: FeedSocket): void {
    this.#open.delete(ws);
    this.#release(ws);
    this.options.observations.emit({ type: "socket-closed-by-server", code: CloseCodes.dropped.code });
    ws.terminate(); // frees the queue at once
  }

  /** Closes with a close frame after the queued data; the queue still counts against the budget until Bun lets it go. */
  #close(ws: FeedSocket, close: { code: number; reason: string }): void {
    this.#open.delete(ws);
    this.#release(ws); // first: unsubscribing moves this turn's frames into the send buffer
    this.#budget.closing(ws.getBufferedAmount());
    // Bun queues the close frame after the buffered data, so the client reads everything, then the code.
    this.#closeWith(ws, close);
  }

  /** Every close the server starts goes through here, so it is counted by code. */
  #closeWith(ws: FeedSocket, { code, reason }: { code: number; reason: string }): void {
    this.options.observations.emit({ type: "socket-closed-by-server", code });
    ws.close(code, reason);
  }
}
