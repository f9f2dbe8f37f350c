import type { AccessGate } from "../../auth/access-gate.ts";
import { tokenFromAuthorization, tokenFromHandshake } from "../../auth/bearer-token.ts";
import type { Observations } from "../../observability/observations.ts";
import { HttpProblem } from "../problem.ts";
import { isUpgrade } from "../route.ts";
import { matchedRoute, type Step } from "./exchange.ts";

/**
 * The route's declared access against the request's token: HTTP routes (event streams included)
 * refuse at once (401, 403, 503); a WebSocket handshake hands a refused token on, to be closed in-band.
 */
export function authenticate(gate: AccessGate, observations: Observations): Step {
  return async (exchange, next) => {
    const { route, url } = matchedRoute(exchange);
    const { request } = exchange;
    // A plain GET of a WebSocket route (the page at /) carries no token and needs none; an event stream does.
    const handshake = route.websocket === true && isUpgrade(request);
    if (route.websocket && !handshake && !route.eventStream) return next();
    const decision = await gate.check(route.access, route.websocket ? tokenFromHandshake(request, url) : tokenFromAuthorization(request));
    if (decision.ok) {
      exchange.identity = decision.identity;
      return next();
    }
    observations.emit({
      type: "access-refused",
      transport: handshake ? "websocket" : "http",
      failure: decision.failure,
      description: decision.description,
    });
    if (handshake) {
      exchange.refused = decision;
      return next();
    }
    if (decision.failure === "unavailable") {
      throw new HttpProblem(503, `Cannot check your token right now: ${decision.description}; retry shortly`, {
        headers: { "Retry-After": "5" },
      });
    }
    const description = decision.description.replace(/["\\]/g, "");
    throw new HttpProblem(401, `Authentication failed: ${description}`, {
      headers: { "WWW-Authenticate": `Bearer error="invalid_token", error_description="${description}"` },
    });
  };
}
