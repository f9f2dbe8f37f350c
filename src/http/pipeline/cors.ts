import type { OriginPolicy } from "../origin-policy.ts";
import type { Step } from "./exchange.ts";

/** The CORS grants the request's Origin is allowed, on every answer (preflights: matchRoute). */
export function cors(origins: OriginPolicy): Step {
  return (exchange, next) => {
    Object.assign(exchange.headers, origins.corsHeaders(exchange.request));
    return next();
  };
}
