import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import type { Identity } from "../auth/identity.ts";
import type { Observations } from "../observations.ts";
import { CloseCodes } from "../protocol/close-codes.ts";
import type { FeedFilter } from "../protocol/filter.ts";
import type { FilterIndex, Subscription } from "./filter-index.ts";
import { resyncFrame } from "./frames.ts";
import type { FeedHistory } from "./history.ts";
import type { Publisher } from "./publisher.ts";
import type { SocketAuth } from "./socket-auth.ts";

/**
 * Per-connection state lives on the connection. A `refusal` is a handshake the server
 * accepted only to close it at once with that code and reason: browsers cannot read the
 * HTTP status of a refused handshake, but they can read a close frame.
 */
export type FeedSocketData = {
  since: string | undefined;
  /** Canonical: sockets with the same filter share one topic. */
  filter: FeedFilter;
  refusal?: { code: number; reason: string };
  /** Set while the socket holds its filter's subscription. */
  subscription?: Subscription;
  /** Who opened it (auth on); its token's expiry closes the socket unless refreshed. */
  identity?: Identity;
  expiryTimer?: ReturnType<typeof setTimeout>;
};
export type FeedSocket = ServerWebSocket<FeedSocketData>;

export type FeedSocketsOptions = {
  history: FeedHistory;
  filters: FilterIndex;
  sendBufferLimit: number;
  idleTimeoutSeconds: number;
  observations: Observations;
  /** Token expiry and refresh on authenticated sockets. */
  auth: SocketAuth;
};

/**
 * The feed's WebSocket side: on open a socket joins its filter, gets its replay and
 * subscribes to the filter's one topic in one synchronous step (no event can slip between
 * them); after that, frames reach it only through `publish`. Sockets whose send buffer passes the limit are closed with 1013.
 */
export class FeedSockets implements Publisher {
  readonly #open = new Set<FeedSocket>();
  #server: Server<FeedSocketData> | undefined;

  constructor(private readonly options: FeedSocketsOptions) {}

  get count(): number {
    return this.#open.size;
  }

  /** Frames published before a server is attached have no socket to reach; they are in the history. */
  attach(server: Server<FeedSocketData>): void {
    this.#server = server;
  }

  publish(topic: string, frame: string): number {
    const server = this.#server;
    if (!server) return 0;
    server.publish(topic, frame);
    return server.subscriberCount(topic);
  }

  handler(): WebSocketHandler<FeedSocketData> {
    return {
      // Client frames carry at most a token (auth); a small cap refuses oversize ones (close 1009).
      maxPayloadLength: 16 * 1024,
      idleTimeout: this.options.idleTimeoutSeconds,
      sendPings: true,
      // Never let Bun drop a frame silently: a dropped frame followed by a delivered one is a
      // gap the client cannot see. `closeSlowClients` enforces the limit with a close frame instead.
      backpressureLimit: 0,
      closeOnBackpressureLimit: false,
      perMessageDeflate: false,
      open: (ws) => this.#opened(ws),
      message: (ws, message) => this.options.auth.message(ws, message),
      close: (ws, code, reason) => {
        this.#release(ws);
        this.options.auth.closed(ws);
        if (!this.#open.delete(ws) && ws.data.refusal) return;
        this.options.observations.emit({ type: "socket-closed", code, reason, connections: this.#open.size });
      },
    };
  }

  /** Closes every socket whose queued bytes exceed the limit; cheap enough to run on a short timer. */
  closeSlowClients(): void {
    for (const ws of this.#open) {
      if (ws.getBufferedAmount() > this.options.sendBufferLimit) this.#closeSlow(ws);
    }
  }

  /** Closes every socket with 1001 (shutdown). */
  closeAll(): void {
    for (const ws of this.#open) {
      this.#release(ws);
      this.#close(ws, CloseCodes.goingAway.code, CloseCodes.goingAway.reason);
    }
    this.#open.clear();
  }

  #opened(ws: FeedSocket): void {
    const { refusal } = ws.data;
    if (refusal) {
      this.options.observations.emit({ type: "socket-refused", code: refusal.code, reason: refusal.reason });
      return this.#close(ws, refusal.code, refusal.reason); // never replayed to, never subscribed
    }
    this.#open.add(ws);
    this.options.observations.emit({ type: "socket-opened", connections: this.#open.size });
    this.options.auth.opened(ws);
    if (ws.readyState !== 1) return; // its token expired during the handshake
    const subscription = this.options.filters.join(ws.data.filter);
    ws.data.subscription = subscription;
    if (ws.data.since !== undefined && !this.#replay(ws, ws.data.since, subscription)) return this.#closeSlow(ws);
    ws.subscribe(subscription.topic);
  }

  /** Sends what the socket missed after `since` (or a resync); false when the replay passed the send buffer limit. */
  #replay(ws: FeedSocket, since: string, subscription: Subscription): boolean {
    const replay = this.options.history.framesAfter(since, subscription.filter);
    if (typeof replay === "string") {
      const frame = resyncFrame(replay);
      ws.send(frame);
      this.options.observations.emit({ type: "replay", outcome: replay, frames: { resync: 1 }, bytes: Buffer.byteLength(frame) });
      return true;
    }
    const frames: Partial<Record<string, number>> = {};
    let bytes = 0;
    let complete = true;
    ws.cork(() => {
      for (const { kind, frame } of replay) {
        ws.send(frame);
        frames[kind] = (frames[kind] ?? 0) + 1;
        bytes += Buffer.byteLength(frame);
        // A long replay is sent in rounds: the client reconnects with its last position.
        if (ws.getBufferedAmount() > this.options.sendBufferLimit) {
          complete = false;
          break;
        }
      }
    });
    this.options.observations.emit({ type: "replay", outcome: complete ? "replayed" : "cut", frames, bytes });
    return complete;
  }

  /** Every close the server starts goes through here, so it is counted by code. */
  #close(ws: FeedSocket, code: number, reason: string): void {
    this.options.observations.emit({ type: "socket-closed-by-server", code });
    ws.close(code, reason);
  }

  /** Gives up the socket's subscription, once. */
  #release(ws: FeedSocket): void {
    const { subscription } = ws.data;
    if (!subscription) return;
    ws.data.subscription = undefined;
    ws.unsubscribe(subscription.topic);
    this.options.filters.leave(subscription);
  }

  #closeSlow(ws: FeedSocket): void {
    this.options.observations.emit({
      type: "slow-client-closed",
      bufferedBytes: ws.getBufferedAmount(),
      limit: this.options.sendBufferLimit,
    });
    this.#open.delete(ws);
    this.#release(ws);
    // Bun queues the close frame after the buffered data, so the client reads everything, then 1013.
    this.#close(ws, CloseCodes.tryAgainLater.code, CloseCodes.tryAgainLater.reason);
  }
}
