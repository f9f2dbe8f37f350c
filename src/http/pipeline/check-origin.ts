import type { Observations } from "../../observability/observations.ts";
import type { OriginPolicy } from "../origin-policy.ts";
import { HttpProblem } from "../problem.ts";
import { isUpgrade } from "../route.ts";
import { matchedRoute, type Step } from "./exchange.ts";

/** A WebSocket handshake from a foreign Origin is refused with 403 before any upgrade (browsers send Origin). */
export function checkOrigin(origins: OriginPolicy, observations: Observations): Step {
  return (exchange, next) => {
    const { route } = matchedRoute(exchange);
    const { request } = exchange;
    const origin = request.headers.get("origin");
    if (route.websocket && isUpgrade(request) && origin !== null && !origins.allows(origin, request)) {
      observations.emit({ type: "access-refused", transport: "websocket", failure: "forbidden", description: "origin not allowed" });
      throw new HttpProblem(403, "This page's origin may not open the feed (see ALLOWED_ORIGINS)");
    }
    return next();
  };
}
