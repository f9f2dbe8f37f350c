import type { ServerWebSocket } from "bun";
import type { Identity } from "../auth/identity.ts";
import type { ResyncReason } from "../protocol/frames.ts";
import type { Subscription } from "./filter-index.ts";
import type { RefreshState } from "./refresh-allowance.ts";
import type { Position } from "../protocol/frames.ts";
import type { FeedFilter } from "../protocol/filter.ts";

/** Where a socket's replay (since) has got to, and what it has sent so far. */
export type ReplayState = { since: Position; frames: Partial<Record<string, number>>; bytes: number };

/**
 * Per-connection state lives on the connection. A `refusal` is a handshake the server
 * accepted only to close it at once with that code and reason: browsers cannot read the
 * HTTP status of a refused handshake, but they can read a close frame. `resync` is told
 * instead of a replay when the handshake already knew `since` cannot be placed.
 * `clientAddress` holds the connection-cap slot the socket gives back when it closes.
 */
export type FeedSocketData = {
  since: string | undefined;
  /** Canonical: sockets with the same filter share one topic. */
  filter: FeedFilter;
  clientAddress: string;
  resync?: ResyncReason;
  refusal?: { code: number; reason: string };
  /** Set while the socket holds its filter's subscription. */
  subscription?: Subscription;
  /** Who opened it (auth on); its token's expiry closes the socket unless refreshed. */
  identity?: Identity;
  expiryTimer?: ReturnType<typeof setTimeout>;
  /** Set while its replay (since) is being streamed; it subscribes once that caught up. */
  replay?: ReplayState;
  /** Its auth frames so far (a rate limit), and the last refresh token it was answered for. */
  refreshes?: RefreshState;
};
export type FeedSocket = ServerWebSocket<FeedSocketData>;
