import type { FeedStreams } from "../../feed/feed-streams.ts";
import { placeSince } from "../../feed/since-placement.ts";
import { SSE_HEADERS } from "../../feed/sse-wire.ts";
import { canonicalFilter } from "../../protocol/filter.ts";
import { FeedQuerySchema } from "../../protocol/requests.ts";
import { validationProblem } from "../problem.ts";
import { defineRoute, isUpgrade, type Route } from "../route.ts";
import { capProblems, type FeedUpgradeOptions, feedUpgradeRoute } from "./feed-upgrade.ts";

export type FeedRouteOptions = FeedUpgradeOptions & { streams: FeedStreams };

/**
 * How long a stream the server ended may sit without its reader taking a byte before Bun drops
 * the connection: a reader that stopped reading would otherwise hold it, and shutdown, forever.
 */
const CLOSING_IDLE_SECONDS = 2;

/**
 * GET /feed: a WebSocket handshake there is the feed exactly as at `/`; any other GET is the
 * feed as Server-Sent Events, with the same query, access rules and resume rules. Refusals
 * before the stream starts are HTTP errors (EventSource stops on them instead of retrying);
 * `Last-Event-ID` (what EventSource sends when it reconnects) wins over `since`.
 */
export function feedRoute(options: FeedRouteOptions): Route {
  const { feed, caps, observations, streams } = options;
  const websocket = feedUpgradeRoute(options);

  return defineRoute({
    method: "GET",
    path: "/feed",
    summary:
      "The feed: a WebSocket handshake (as at /), or Server-Sent Events (text/event-stream: each event's data is the JSON frame the WebSocket would send, post frames carry id: <position>)",
    access: "read",
    websocket: true,
    eventStream: true,
    query: FeedQuerySchema,
    onInvalidQuery(issues, context) {
      if (isUpgrade(context.request) && websocket.onInvalidQuery) return websocket.onInvalidQuery(issues, context);
      throw validationProblem("The query is not valid", issues);
    },
    responses: {
      101: { description: "switching to the WebSocket feed, as at / (frames and close codes as there)" },
      200: {
        description:
          "the feed as Server-Sent Events (text/event-stream): `retry:` once, then one event per frame (`data:` the JSON frame, `id:` its position for post frames), a comment line every SSE_HEARTBEAT_SECONDS; a stream the server ends closes with a `close` frame",
        contentType: "text/event-stream",
        headers: { "Cache-Control": "no-cache", "X-Accel-Buffering": "no (nginx: do not buffer the stream)" },
      },
      400: "the query (filter or since) is not valid",
      401: "no token, or an invalid one (auth on, reads not public)",
      403: "an Origin header that is not allowed (ALLOWED_ORIGINS)",
      429: "this client address holds WS_MAX_CONNECTIONS_PER_IP feed connections (with Retry-After)",
      503: "the server holds WS_MAX_CONNECTIONS feed connections, or cannot check tokens right now (with Retry-After)",
    },
    async handle(context) {
      const { request, query, identity } = context;
      if (isUpgrade(request)) return websocket.handle(context);
      if (request.method === "HEAD") return new Response(null, { headers: SSE_HEADERS });
      const address = context.clientAddress();
      const capped = caps.claim(address);
      if (capped) {
        const limit = capped === "total" ? caps.limits.total : caps.limits.perAddress;
        observations.emit({ type: "connection-refused", cap: capped, limit, address });
        throw capProblems[capped](caps);
      }
      const { since: sinceParameter, access_token: _token, ...filter } = query;
      const since = request.headers.get("last-event-id") || sinceParameter;
      let opened = false;
      try {
        const resync = await placeSince(feed, since);
        if (request.signal.aborted) return new Response(null, { status: 499 }); // nobody is left to stream to
        // Bun ends a response idle for 10 s; a quiet feed is not a dead one (the heartbeat finds those).
        // Set first: a stream ended while it opens (a cut replay) sets its own, shorter, one.
        context.server.timeout(request, 0);
        const stream = streams.open({
          since,
          filter: canonicalFilter(filter),
          clientAddress: address,
          closing: () => context.server.timeout(request, CLOSING_IDLE_SECONDS),
          ...(resync ? { resync } : {}),
          ...(identity ? { identity } : {}),
        });
        opened = true; // from here the stream gives its slot back when it ends
        return new Response(stream, { headers: SSE_HEADERS });
      } finally {
        if (!opened) caps.release(address);
      }
    },
  });
}
