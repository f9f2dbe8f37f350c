import type { Observations } from "../../observability/observations.ts";
import type { OriginPolicy } from "../origin-policy.ts";
import { HttpProblem } from "../problem.ts";
import { isUpgrade } from "../route.ts";
import { matchedRoute, type Step } from "./exchange.ts";

/**
 * Opening the feed from a foreign Origin (a WebSocket handshake, or an event stream) is refused with 403
 * before any upgrade or stream (browsers send Origin). A plain GET of the page is not opening the feed.
 */
export function checkOrigin(origins: OriginPolicy, observations: Observations): Step {
  return (exchange, next) => {
    const { route } = matchedRoute(exchange);
    const { request } = exchange;
    const origin = request.headers.get("origin");
    const handshake = route.websocket === true && isUpgrade(request);
    const opensFeed = handshake || route.eventStream === true;
    if (opensFeed && origin !== null && !origins.allows(origin, request)) {
      const transport = handshake ? "websocket" : "http";
      observations.emit({ type: "access-refused", transport, failure: "forbidden", description: "origin not allowed" });
      throw new HttpProblem(403, "This page's origin may not open the feed (see ALLOWED_ORIGINS)");
    }
    return next();
  };
}
