import type { Server } from "bun";
import type { AccessGate } from "../auth/access-gate.ts";
import type { Logger } from "../observability/logger.ts";
import type { Observations } from "../observability/observations.ts";
import type { ClientAddressOf } from "./client-address.ts";
import type { HostPolicy } from "./host-policy.ts";
import type { OriginPolicy } from "./origin-policy.ts";
import { answerHeaders } from "./pipeline/answer-headers.ts";
import { authenticate } from "./pipeline/authenticate.ts";
import { checkHost } from "./pipeline/check-host.ts";
import { checkOrigin } from "./pipeline/check-origin.ts";
import { cors } from "./pipeline/cors.ts";
import { compose, type Step } from "./pipeline/exchange.ts";
import { handle } from "./pipeline/handle.ts";
import { mapErrors } from "./pipeline/map-errors.ts";
import { matchRoute } from "./pipeline/match-route.ts";
import { noSniff } from "./pipeline/no-sniff.ts";
import { observeResponse } from "./pipeline/observe-response.ts";
import { rateLimitWrites } from "./pipeline/rate-limit-writes.ts";
import { resolveUrl } from "./pipeline/resolve-url.ts";
import { validate } from "./pipeline/validate.ts";
import type { Route } from "./route.ts";
import type { WriteRateLimiter } from "./write-rate-limiter.ts";

export type RouterOptions = {
  log: Logger;
  observations: Observations;
  clientAddressOf: ClientAddressOf;
  gate: AccessGate;
  origins: OriginPolicy;
  /** Undefined: writes are not rate limited. */
  writeLimiter?: WriteRateLimiter;
  /** Undefined: every Host is answered. */
  hosts?: HostPolicy;
};

/**
 * The request pipeline: each concern one step, in this order. A new cross-cutting concern is
 * one file in pipeline/ and one line here.
 */
export function requestPipeline(routes: readonly Route[], options: RouterOptions): Step[] {
  const { log, observations, gate, origins, writeLimiter, hosts } = options;
  return [
    observeResponse(observations),
    noSniff,
    ...(hosts ? [checkHost(hosts)] : []),
    answerHeaders,
    cors(origins),
    mapErrors(log, observations),
    resolveUrl(observations),
    matchRoute(routes, origins),
    checkOrigin(origins, observations),
    authenticate(gate, observations),
    ...(writeLimiter ? [rateLimitWrites(writeLimiter, observations)] : []),
    validate,
    handle,
  ];
}

/** Bun's fetch handler: every request through the pipeline, answered by one of its steps. */
export function createRouter(routes: readonly Route[], options: RouterOptions) {
  const run = compose(requestPipeline(routes, options));
  return (request: Request, server: Server<unknown>): Promise<Response | undefined> =>
    run({ request, server, headers: {}, routeTemplate: "unmatched", clientAddress: () => options.clientAddressOf(request, server) });
}
