import type { Server } from "bun";
import type { AccessDecision } from "../../auth/access-gate.ts";
import type { Identity } from "../../auth/identity.ts";
import type { Route, RouteContext } from "../route.ts";

/** One request on its way through the pipeline: what the steps so far have learned of it. */
export type Exchange = {
  readonly request: Request;
  readonly server: Server<unknown>;
  /** Headers every answer carries, errors included: CORS grants, rate-limit state. */
  readonly headers: Record<string, string>;
  /** The client's address (the socket's peer, or X-Forwarded-For from a trusted proxy). */
  readonly clientAddress: () => string;
  /** The matched route's template, for metrics: "unmatched" until a route matches. */
  routeTemplate: string;
  /** The parsed URL (requestUrl), once a step has asked for it. */
  url?: URL;
  /** Set by matchRoute: the route and the raw values of its `:name` segments. */
  matched?: { route: Route; segments: Record<string, string | undefined> };
  /** Who the caller is (undefined: anonymous or auth off); `refused` for a WebSocket handshake's refused token. */
  identity?: Identity;
  refused?: Extract<AccessDecision, { ok: false }>;
  /** Set by validate: the route's input, valid. */
  input?: { params: unknown; query: unknown; body: unknown };
};

export type Next = () => Promise<Response | undefined>;

/**
 * One concern of the request pipeline. It answers (returns a response, or undefined for a
 * WebSocket upgrade), throws an error for mapErrors to answer, or calls `next` to go on.
 */
export type Step = (exchange: Exchange, next: Next) => Promise<Response | undefined>;

/** Runs the steps in order, each deciding whether the next one runs. */
export function compose(steps: readonly Step[]): (exchange: Exchange) => Promise<Response | undefined> {
  return (exchange) => {
    const run = async (index: number): Promise<Response | undefined> => {
      const step = steps[index];
      if (!step) throw new Error("the pipeline ended without an answer: its last step must answer");
      return step(exchange, () => run(index + 1));
    };
    return run(0);
  };
}

/**
 * The request's URL, parsed once for all the steps that need it: Bun builds it from the Host header,
 * so without a usable one (HTTP/1.0 without Host, `Host: a b`, a CONNECT target) there is none.
 */
export function requestUrl(exchange: Exchange): URL | undefined {
  if (exchange.url) return exchange.url;
  let url: URL | undefined;
  try {
    url = new URL(exchange.request.url);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  exchange.url = url;
  return url;
}

/** What a step after matchRoute needs; a step placed before it is a wiring error. */
export function matchedRoute(exchange: Exchange): NonNullable<Exchange["matched"]> & { url: URL } {
  const { matched, url } = exchange;
  if (!matched || !url) throw new Error("pipeline order: this step must come after matchRoute");
  return { ...matched, url };
}

/** What a route's handler (or its onInvalidQuery) is given. */
export function routeContext<Q, B>(exchange: Exchange, input: { params: unknown; query: Q; body: B }): RouteContext<unknown, Q, B> {
  const { request, server, clientAddress, identity, refused } = exchange;
  return { request, server, url: matchedRoute(exchange).url, ...input, clientAddress, identity, refused };
}
