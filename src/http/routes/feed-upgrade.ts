import type { Server } from "bun";
import type { AccessDecision } from "../../auth/access-gate.ts";
import { FEED_SUBPROTOCOL, requestedSubprotocols } from "../../auth/bearer-token.ts";
import type { ChangeFeed } from "../../feed/change-feed.ts";
import type { CapReached, ConnectionCaps } from "../../feed/connection-caps.ts";
import { placeSince } from "../../feed/since-placement.ts";
import type { FeedSocketData } from "../../feed/socket-data.ts";
import type { Observations } from "../../observability/observations.ts";
import { CloseCodes } from "../../protocol/close-codes.ts";
import { canonicalFilter } from "../../protocol/filter.ts";
import { FeedQuerySchema } from "../../protocol/requests.ts";
import { HttpProblem } from "../problem.ts";
import { defineRoute, isUpgrade, type Route, type RouteContext } from "../route.ts";
import { livePageResponse } from "./live-page.ts";

export type FeedUpgradeOptions = { feed: ChangeFeed; caps: ConnectionCaps; observations: Observations };

/** RFC 6455 allows 123 bytes of close reason. */
const MAX_CLOSE_REASON_BYTES = 123;

const notAWebSocket = () =>
  new HttpProblem(426, "This is the WebSocket feed; connect with a WebSocket client (ws://host/)", { headers: { Upgrade: "websocket" } });

// A refused handshake also closes its HTTP connection, so it gives its descriptor back at once.
export const capProblems: Record<CapReached, (caps: ConnectionCaps) => HttpProblem> = {
  total: () =>
    new HttpProblem(
      503,
      "This server holds as many feed connections (WebSocket and SSE) as it can; retry later or connect to another instance",
      {
        headers: { "Retry-After": "5", Connection: "close" },
      },
    ),
  "per-address": (caps) =>
    new HttpProblem(
      429,
      `Too many feed connections (WebSocket and SSE) from your address (at most ${caps.limits.perAddress}); close some first`,
      {
        headers: { "Retry-After": "10", Connection: "close" },
      },
    ),
};

type Context = Pick<RouteContext, "request" | "server" | "clientAddress">;
type Socket = Omit<FeedSocketData, "clientAddress">;

/**
 * GET / with `Upgrade: websocket`: the feed (the socket side is in `feed/sockets.ts`); a plain
 * GET / is the live page, whatever its query.
 */
export function feedUpgradeRoute({ feed, caps, observations }: FeedUpgradeOptions): Route {
  /**
   * Every socket, refused ones too (they hold a descriptor until closed), takes a connection
   * slot from the upgrade on; its close callback gives it back. Past a cap, the answer is an
   * HTTP error before any upgrade.
   */
  async function upgrade({ request, server, clientAddress }: Context, socket: () => Promise<Socket> | Socket): Promise<undefined> {
    const address = clientAddress();
    const capped = caps.claim(address);
    if (capped) {
      const limit = capped === "total" ? caps.limits.total : caps.limits.perAddress;
      observations.emit({ type: "connection-refused", cap: capped, limit, address });
      throw capProblems[capped](caps);
    }
    let upgraded = false;
    try {
      const data: FeedSocketData = { ...(await socket()), clientAddress: address };
      // `mongo-feed.v1` when the client asked for it, none otherwise: left alone, Bun would echo
      // the first subprotocol asked for (a `bearer.<jwt>` too).
      const requested = requestedSubprotocols(request);
      const headers =
        requested.length > 0 ? { "Sec-WebSocket-Protocol": requested.includes(FEED_SUBPROTOCOL) ? FEED_SUBPROTOCOL : "" } : undefined;
      upgraded = (server as Server<FeedSocketData>).upgrade(request, { data, ...(headers ? { headers } : {}) });
    } finally {
      if (!upgraded) caps.release(address);
    }
    if (upgraded) return undefined;
    throw notAWebSocket();
  }

  return defineRoute({
    method: "GET",
    path: "/",
    summary: "The WebSocket feed (an Upgrade: websocket handshake; frames are described in docs/websocket-protocol.md), or the live page",
    access: "read",
    websocket: true,
    query: FeedQuerySchema,
    // Browsers cannot read an HTTP error on a handshake: a refused token or a bad query opens the
    // socket and closes it at once (4401 or 1013 for the token first, then 4400 for the query).
    onInvalidQuery(issues, context) {
      if (!isUpgrade(context.request)) return livePageResponse();
      const refusal = context.refused
        ? tokenRefusal(context.refused)
        : { code: CloseCodes.badQuery.code, reason: closeReason(issues[0]?.message ?? "the query is not valid") };
      return upgrade(context, () => ({ since: undefined, filter: {}, refusal }));
    },
    responses: {
      101: {
        description:
          "switching to the WebSocket feed (a refused token or a bad query is accepted, then closed at once: 4401, 1013 or 4400)",
      },
      200: { description: "a plain GET: the live page (text/html)" },
      403: "an Origin header that is not allowed (ALLOWED_ORIGINS)",
      429: "this client address holds WS_MAX_CONNECTIONS_PER_IP connections (with Retry-After)",
      503: "the server holds WS_MAX_CONNECTIONS connections (with Retry-After)",
    },
    async handle(context) {
      const { request, query, identity, refused } = context;
      if (!isUpgrade(request)) return livePageResponse();
      if (refused) return upgrade(context, () => ({ since: undefined, filter: {}, refusal: tokenRefusal(refused) }));
      const { since, access_token: _token, ...filter } = query;
      return upgrade(context, async () => {
        const resync = await placeSince(feed, since);
        return { since, filter: canonicalFilter(filter), ...(resync ? { resync } : {}), ...(identity ? { identity } : {}) };
      });
    },
  });
}

/** Opened only to be closed at once: browsers can read a close code, not a handshake's status. */
function tokenRefusal(refused: Extract<AccessDecision, { ok: false }>): NonNullable<FeedSocketData["refusal"]> {
  return refused.failure === "unavailable"
    ? { code: CloseCodes.keysUnavailable.code, reason: CloseCodes.keysUnavailable.reason }
    : { code: CloseCodes.unauthorized.code, reason: closeReason(refused.description) };
}

/** A close reason, cut to the 123 bytes of UTF-8 a close frame can carry. */
function closeReason(text: string): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= MAX_CLOSE_REASON_BYTES) return text;
  return `${new TextDecoder().decode(bytes.slice(0, MAX_CLOSE_REASON_BYTES - 3)).replace(/\uFFFD+$/, "")}...`;
}
