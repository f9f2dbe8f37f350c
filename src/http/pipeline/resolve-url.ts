import type { Observations } from "../../observability/observations.ts";
import { HttpProblem } from "../problem.ts";
import { requestUrl, type Step } from "./exchange.ts";

/**
 * The request's URL, which Bun builds from the Host header: without a usable one (HTTP/1.0
 * without Host, `Host: a b`, a CONNECT target) there is no URL, and the client gets a 400.
 */
export function resolveUrl(observations: Observations): Step {
  return (exchange, next) => {
    const { request } = exchange;
    const url = requestUrl(exchange);
    if (!url) throw new HttpProblem(400, "The request needs a valid Host header and an origin-form target (/path)");
    observations.emit({ type: "request", method: request.method, path: url.pathname });
    return next();
  };
}
