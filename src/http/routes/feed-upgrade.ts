import type { Server } from "bun";
import type { ChangeFeed } from "../../feed/change-feed.ts";
import type { CapReached, ConnectionCaps } from "../../feed/connection-caps.ts";
import { clusterTimeOf, wallClockMsOf } from "../../feed/position.ts";
import type { FeedSocketData } from "../../feed/sockets.ts";
import type { Observations } from "../../observations.ts";
import type { ResyncReason } from "../../protocol/frames.ts";
import { FeedQuerySchema } from "../../protocol/requests.ts";
import { HttpProblem } from "../problem.ts";
import { defineRoute, type Route } from "../route.ts";

export type FeedUpgradeOptions = { feed: ChangeFeed; caps: ConnectionCaps; observations: Observations };

/**
 * How far ahead of this machine's clock a position's cluster time may be (clock skew between
 * hosts) and still be waited for; anything further ahead is not a position of this feed.
 */
export const FUTURE_TOLERANCE_MS = 5_000;

/**
 * How long a handshake waits for this instance's stream to reach a position another instance
 * handed out a moment ago (idle getMores return every 250 ms, so a healthy stream is there in
 * well under this). Never longer, whatever the position claims.
 */
export const CATCH_UP_WAIT_MS = 2_000;

const notAWebSocket = () =>
  new HttpProblem(426, "This is the WebSocket feed; connect with a WebSocket client (ws://host/)", { headers: { Upgrade: "websocket" } });

// A refused handshake also closes its HTTP connection, so it gives its descriptor back at once.
const capProblems: Record<CapReached, (caps: ConnectionCaps) => HttpProblem> = {
  total: () =>
    new HttpProblem(503, "This server holds as many WebSocket connections as it can; retry later or connect to another instance", {
      headers: { "Retry-After": "5", Connection: "close" },
    }),
  "per-address": (caps) =>
    new HttpProblem(429, `Too many WebSocket connections from your address (at most ${caps.limits.perAddress}); close some first`, {
      headers: { "Retry-After": "10", Connection: "close" },
    }),
};

/** GET / with `Upgrade: websocket`: the feed. The socket side is in `feed/sockets.ts`. */
export function feedUpgradeRoute({ feed, caps, observations }: FeedUpgradeOptions): Route {
  /** Whether the socket must be told `resync` at once, because this stream cannot place `since`. */
  async function placeSince(since: string | undefined): Promise<ResyncReason | undefined> {
    const time = since === undefined ? undefined : clusterTimeOf(since);
    if (time === undefined || time <= feed.streamTime) return undefined; // the history decides
    if (wallClockMsOf(time) > Date.now() + FUTURE_TOLERANCE_MS) return "position-unknown";
    // A moment ahead: another instance's stream may simply be ahead of this one.
    return (await feed.waitForTime(time, CATCH_UP_WAIT_MS)) ? undefined : "position-unknown";
  }

  return defineRoute({
    method: "GET",
    path: "/",
    summary: "The WebSocket feed (an Upgrade: websocket handshake); frames are described in the README",
    query: FeedQuerySchema,
    responses: {
      101: { description: "switching to the WebSocket feed" },
      426: "a plain GET without Upgrade: websocket",
      429: "this client address holds WS_MAX_CONNECTIONS_PER_IP connections (with Retry-After)",
      503: "the server holds WS_MAX_CONNECTIONS connections (with Retry-After)",
    },
    async handle({ request, server, query: { since }, clientAddress }) {
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") throw notAWebSocket();
      const address = clientAddress();
      const capped = caps.claim(address);
      if (capped) {
        const limit = capped === "total" ? caps.limits.total : caps.limits.perAddress;
        observations.emit({ type: "connection-refused", cap: capped, limit, address });
        throw capProblems[capped](caps);
      }
      // The slot is the socket's from the upgrade on (its close callback gives it back), ours until then.
      let upgraded = false;
      try {
        const resync = await placeSince(since);
        const data: FeedSocketData = { since, clientAddress: address, ...(resync ? { resync } : {}) };
        upgraded = (server as Server<FeedSocketData>).upgrade(request, { data });
      } finally {
        if (!upgraded) caps.release(address);
      }
      if (upgraded) return undefined;
      throw notAWebSocket();
    },
  });
}
