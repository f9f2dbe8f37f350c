import type { Observations } from "../../observability/observations.ts";
import type { Step } from "./exchange.ts";

/**
 * Outermost: every answer is observed by route template (never the raw path: a bounded set of
 * labels), with its status and duration; 101 is an upgrade.
 */
export function observeResponse(observations: Observations): Step {
  return async (exchange, next) => {
    const started = performance.now();
    const response = await next();
    const { request, routeTemplate } = exchange;
    const status = response?.status ?? 101;
    observations.emit({ type: "response", method: request.method, route: routeTemplate, status, durationMs: performance.now() - started });
    return response;
  };
}
