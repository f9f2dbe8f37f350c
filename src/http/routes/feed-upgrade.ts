import type { Server } from "bun";
import * as v from "valibot";
import type { ChangeFeed } from "../../feed/change-feed.ts";
import { clusterTimeOf, wallClockMsOf } from "../../feed/position.ts";
import type { FeedSocketData } from "../../feed/sockets.ts";
import { CloseCodes } from "../../protocol/close-codes.ts";
import { canonicalFilter } from "../../protocol/filter.ts";
import { FeedQuerySchema } from "../../protocol/requests.ts";
import { HttpProblem } from "../problem.ts";
import { defineRoute, type Route } from "../route.ts";

export type FeedUpgradeOptions = { feed: ChangeFeed; waitMs: number };

/** How far ahead of this machine's clock MongoDB's cluster time may plausibly run. */
const FUTURE_TOLERANCE_MS = 60_000;
/** RFC 6455 allows 123 bytes of close reason. */
const MAX_CLOSE_REASON_BYTES = 123;

const notAWebSocket = () =>
  new HttpProblem(426, "This is the WebSocket feed; connect with a WebSocket client (ws://host/)", { headers: { Upgrade: "websocket" } });

const isUpgrade = (request: Request) => request.headers.get("upgrade")?.toLowerCase() === "websocket";

/** GET / with `Upgrade: websocket`: the feed. The socket side is in `feed/sockets.ts`. */
export function feedUpgradeRoute({ feed, waitMs }: FeedUpgradeOptions): Route {
  const upgrade = (request: Request, server: Server<unknown>, data: FeedSocketData) => {
    if ((server as Server<FeedSocketData>).upgrade(request, { data })) return undefined;
    throw notAWebSocket();
  };

  return defineRoute({
    method: "GET",
    path: "/",
    summary: "The WebSocket feed (an Upgrade: websocket handshake); frames are described in the README",
    query: FeedQuerySchema,
    // Browsers cannot read an HTTP error on a handshake: a bad query opens the socket and closes it with 4400.
    onInvalidQuery(issues, { request, server }) {
      if (!isUpgrade(request)) throw notAWebSocket();
      const refusal = { code: CloseCodes.badQuery.code, reason: closeReason(issues) };
      return upgrade(request, server, { since: undefined, filter: {}, refusal });
    },
    responses: {
      101: { description: "switching to the WebSocket feed (a bad query is accepted, then closed with 4400 and the reason)" },
      426: "a plain GET without Upgrade: websocket",
    },
    async handle({ request, server, query: { since, ...filter } }) {
      if (!isUpgrade(request)) throw notAWebSocket();
      const time = since === undefined ? undefined : clusterTimeOf(since);
      // A position another instance handed out may be a moment ahead of this one's stream;
      // one from the future of the clock is unknown, and is told so at once (not after a wait).
      if (time !== undefined && time > feed.streamTime && wallClockMsOf(time) < Date.now() + FUTURE_TOLERANCE_MS) {
        await feed.waitForTime(time, waitMs);
      }
      return upgrade(request, server, { since, filter: canonicalFilter(filter) });
    },
  });
}

/** The first problem as a close reason (each message names its parameter), cut to what a close frame can carry. */
function closeReason(issues: readonly v.BaseIssue<unknown>[]): string {
  const reason = issues[0]?.message ?? "the query is not valid";
  const bytes = new TextEncoder().encode(reason);
  if (bytes.length <= MAX_CLOSE_REASON_BYTES) return reason;
  return `${new TextDecoder().decode(bytes.slice(0, MAX_CLOSE_REASON_BYTES - 3)).replace(/\uFFFD+$/, "")}...`;
}
