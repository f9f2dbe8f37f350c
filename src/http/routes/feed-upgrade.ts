import type { Server } from "bun";
import type { ChangeFeed } from "../../feed/change-feed.ts";
import { clusterTimeOf, wallClockMsOf } from "../../feed/position.ts";
import type { FeedSocketData } from "../../feed/sockets.ts";
import { FeedQuerySchema } from "../../protocol/requests.ts";
import { HttpProblem } from "../problem.ts";
import { defineRoute, type Route } from "../route.ts";

export type FeedUpgradeOptions = { feed: ChangeFeed; waitMs: number };

/** How far ahead of this machine's clock MongoDB's cluster time may plausibly run. */
const FUTURE_TOLERANCE_MS = 60_000;

const notAWebSocket = () =>
  new HttpProblem(426, "This is the WebSocket feed; connect with a WebSocket client (ws://host/)", { headers: { Upgrade: "websocket" } });

/** GET / with `Upgrade: websocket`: the feed. The socket side is in `feed/sockets.ts`. */
export function feedUpgradeRoute({ feed, waitMs }: FeedUpgradeOptions): Route {
  return defineRoute({
    method: "GET",
    path: "/",
    summary: "The WebSocket feed (an Upgrade: websocket handshake); frames are described in the README",
    query: FeedQuerySchema,
    responses: { 101: { description: "switching to the WebSocket feed" }, 426: "a plain GET without Upgrade: websocket" },
    async handle({ request, server, query: { since } }) {
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") throw notAWebSocket();
      const time = since === undefined ? undefined : clusterTimeOf(since);
      // A position another instance handed out may be a moment ahead of this one's stream;
      // one from the future of the clock is unknown, and is told so at once (not after a wait).
      if (time !== undefined && time > feed.streamTime && wallClockMsOf(time) < Date.now() + FUTURE_TOLERANCE_MS) {
        await feed.waitForTime(time, waitMs);
      }
      const data: FeedSocketData = { since };
      if ((server as Server<FeedSocketData>).upgrade(request, { data })) return undefined;
      throw notAWebSocket();
    },
  });
}
