import type { Observations } from "../../observability/observations.ts";
import { HttpProblem } from "../problem.ts";
import type { WriteRateLimiter } from "../write-rate-limiter.ts";
import { matchedRoute, type Step } from "./exchange.ts";

/** Writes take a token from their caller's bucket (by token subject, else by address): 429 when it is empty. */
export function rateLimitWrites(limiter: WriteRateLimiter, observations: Observations): Step {
  return (exchange, next) => {
    const { route } = matchedRoute(exchange);
    if (route.access !== "write") return next();
    const { identity, clientAddress } = exchange;
    const decision = limiter.take(identity ? `sub:${identity.sub}` : `address:${clientAddress()}`);
    Object.assign(exchange.headers, decision.headers);
    if (!decision.allowed) {
      observations.emit({ type: "write-rate-limited", retryAfterSeconds: decision.retryAfterSeconds });
      throw new HttpProblem(429, `Too many writes; retry in ${decision.retryAfterSeconds} s`);
    }
    return next();
  };
}
