import type { ServerWebSocket, WebSocketHandler } from "bun";
import type { FeedHistory } from "./feed-history.ts";
import { resyncFrame } from "./feed-frames.ts";
import type { Logger } from "./logger.ts";

/** Per-connection state lives on the connection. */
export type FeedSocketData = { since: string | undefined };
export type FeedSocket = ServerWebSocket<FeedSocketData>;

export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_TRY_AGAIN_LATER = 1013;
const SLOW_CLIENT_REASON = "send buffer limit exceeded; reconnect with since";

export type FeedSocketsOptions = {
  history: FeedHistory;
  topic: string;
  sendBufferLimit: number;
  idleTimeoutSeconds: number;
  log: Logger;
};

/**
 * The feed's WebSocket side: on open a socket gets its replay and joins the topic in one
 * synchronous step (no event can slip between the two); after that, frames reach it only
 * through `server.publish`. Sockets whose send buffer passes the limit are closed with 1013.
 */
export class FeedSockets {
  readonly #open = new Set<FeedSocket>();

  constructor(private readonly options: FeedSocketsOptions) {}

  get count(): number {
    return this.#open.size;
  }

  handler(): WebSocketHandler<FeedSocketData> {
    return {
      // Client frames carry nothing; a small cap refuses oversize ones (close 1009).
      maxPayloadLength: 4 * 1024,
      idleTimeout: this.options.idleTimeoutSeconds,
      sendPings: true,
      // Never let Bun drop a frame silently: a dropped frame followed by a delivered one is a
      // gap the client cannot see. `closeSlowClients` enforces the limit with a close frame instead.
      backpressureLimit: 0,
      closeOnBackpressureLimit: false,
      perMessageDeflate: false,
      open: (ws) => this.#opened(ws),
      message: () => {},
      close: (ws, code, reason) => {
        this.#open.delete(ws);
        this.options.log.debug("socket closed", { code, reason });
      },
    };
  }

  /** Closes every socket whose queued bytes exceed the limit; cheap enough to run on a short timer. */
  closeSlowClients(): void {
    for (const ws of this.#open) {
      if (ws.getBufferedAmount() > this.options.sendBufferLimit) this.#closeSlow(ws);
    }
  }

  closeAll(code: number, reason: string): void {
    for (const ws of this.#open) ws.close(code, reason);
    this.#open.clear();
  }

  #opened(ws: FeedSocket): void {
    this.#open.add(ws);
    const { since } = ws.data;
    if (since !== undefined) {
      const replay = this.options.history.framesAfter(since);
      if (typeof replay === "string") {
        ws.send(resyncFrame(replay));
      } else {
        let overLimit = false;
        ws.cork(() => {
          for (const frame of replay) {
            ws.send(frame);
            // A long replay is sent in rounds: the client reconnects with its last position.
            if (ws.getBufferedAmount() > this.options.sendBufferLimit) {
              overLimit = true;
              break;
            }
          }
        });
        if (overLimit) return this.#closeSlow(ws);
      }
    }
    ws.subscribe(this.options.topic);
  }

  #closeSlow(ws: FeedSocket): void {
    this.options.log.warn("closed a slow client", { bufferedBytes: ws.getBufferedAmount(), limit: this.options.sendBufferLimit });
    this.#open.delete(ws);
    ws.unsubscribe(this.options.topic);
    // Bun queues the close frame after the buffered data, so the client reads everything, then 1013.
    ws.close(CLOSE_TRY_AGAIN_LATER, SLOW_CLIENT_REASON);
  }
}
