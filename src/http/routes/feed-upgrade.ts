import type { Server } from "bun";
import type { AccessDecision } from "../../auth/access-gate.ts";
import { FEED_SUBPROTOCOL, requestedSubprotocols } from "../../auth/bearer-token.ts";
import type { ChangeFeed } from "../../feed/change-feed.ts";
import { clusterTimeOf, wallClockMsOf } from "../../feed/position.ts";
import type { FeedSocketData } from "../../feed/sockets.ts";
import { CloseCodes } from "../../protocol/close-codes.ts";
import { canonicalFilter } from "../../protocol/filter.ts";
import { FeedQuerySchema } from "../../protocol/requests.ts";
import { HttpProblem } from "../problem.ts";
import { defineRoute, type Route } from "../route.ts";
import { isUpgrade } from "../upgrade-request.ts";
import { livePageResponse } from "./live-page.ts";

export type FeedUpgradeOptions = { feed: ChangeFeed; waitMs: number };

/** How far ahead of this machine's clock MongoDB's cluster time may plausibly run. */
const FUTURE_TOLERANCE_MS = 60_000;
/** RFC 6455 allows 123 bytes of close reason. */
const MAX_CLOSE_REASON_BYTES = 123;

const notAWebSocket = () =>
  new HttpProblem(426, "This is the WebSocket feed; connect with a WebSocket client (ws://host/)", { headers: { Upgrade: "websocket" } });

/**
 * GET / with `Upgrade: websocket`: the feed (the socket side is in `feed/sockets.ts`); a plain
 * GET / is the live page, whatever its query.
 */
export function feedUpgradeRoute({ feed, waitMs }: FeedUpgradeOptions): Route {
  return defineRoute({
    method: "GET",
    path: "/",
    summary: "The WebSocket feed (an Upgrade: websocket handshake; frames are described in the README), or the live page",
    access: "read",
    websocket: true,
    query: FeedQuerySchema,
    // Browsers cannot read an HTTP error on a handshake: a refused token or a bad query opens the
    // socket and closes it at once (4401 or 1013 for the token first, then 4400 for the query).
    onInvalidQuery(issues, { request, server, refused }) {
      if (!isUpgrade(request)) return livePageResponse();
      const refusal = refused
        ? tokenRefusal(refused)
        : { code: CloseCodes.badQuery.code, reason: closeReason(issues[0]?.message ?? "the query is not valid") };
      return upgrade(server, request, { since: undefined, filter: {}, refusal });
    },
    responses: {
      101: {
        description:
          "switching to the WebSocket feed (a refused token or a bad query is accepted, then closed at once: 4401, 1013 or 4400)",
      },
      200: { description: "a plain GET: the live page (text/html)" },
      403: "an Origin header that is not allowed (ALLOWED_ORIGINS)",
    },
    async handle({ request, server, query: { since, access_token: _token, ...filter }, identity, refused }) {
      if (!isUpgrade(request)) return livePageResponse();
      if (refused) return upgrade(server, request, { since: undefined, filter: {}, refusal: tokenRefusal(refused) });
      const time = since === undefined ? undefined : clusterTimeOf(since);
      // A position another instance handed out may be a moment ahead of this one's stream;
      // one from the future of the clock is unknown, and is told so at once (not after a wait).
      if (time !== undefined && time > feed.streamTime && wallClockMsOf(time) < Date.now() + FUTURE_TOLERANCE_MS) {
        await feed.waitForTime(time, waitMs);
      }
      return upgrade(server, request, { since, filter: canonicalFilter(filter), ...(identity ? { identity } : {}) });
    },
  });
}

/** Opened only to be closed at once: browsers can read a close code, not a handshake's status. */
function tokenRefusal(refused: Extract<AccessDecision, { ok: false }>): NonNullable<FeedSocketData["refusal"]> {
  return refused.failure === "unavailable"
    ? { code: CloseCodes.keysUnavailable.code, reason: CloseCodes.keysUnavailable.reason }
    : { code: CloseCodes.unauthorized.code, reason: closeReason(refused.description) };
}

/**
 * Upgrades with `mongo-feed.v1` as the subprotocol when the client asked for it, and with
 * none otherwise: left alone, Bun would echo the first one asked for (a `bearer.<jwt>` too).
 */
function upgrade(server: Server<unknown>, request: Request, data: FeedSocketData): undefined {
  const requested = requestedSubprotocols(request);
  const protocol = requested.includes(FEED_SUBPROTOCOL) ? FEED_SUBPROTOCOL : "";
  const headers = requested.length > 0 ? { "Sec-WebSocket-Protocol": protocol } : undefined;
  if ((server as Server<FeedSocketData>).upgrade(request, { data, ...(headers ? { headers } : {}) })) return undefined;
  throw notAWebSocket();
}

/** A close reason, cut to the 123 bytes of UTF-8 a close frame can carry. */
function closeReason(text: string): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= MAX_CLOSE_REASON_BYTES) return text;
  return `${new TextDecoder().decode(bytes.slice(0, MAX_CLOSE_REASON_BYTES - 3)).replace(/\uFFFD+$/, "")}...`;
}
