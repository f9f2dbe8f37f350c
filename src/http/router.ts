import type { Server } from "bun";
import * as v from "valibot";
import type { AccessDecision, AccessGate } from "../auth/access-gate.ts";
import { tokenFromAuthorization, tokenFromHandshake } from "../auth/bearer-token.ts";
import type { Identity } from "../auth/identity.ts";
import type { Logger } from "../logger.ts";
import type { Observations } from "../observations.ts";
import type { ClientAddressOf } from "./client-address.ts";
import type { OriginPolicy } from "./origin-policy.ts";
import { HttpProblem, problemResponse, toProblem, validationProblem } from "./problem.ts";
import { readJsonBody } from "./read-json-body.ts";
import type { AnySchema, Route } from "./route.ts";
import { isUpgrade } from "./upgrade-request.ts";
import type { WriteRateLimiter } from "./write-rate-limiter.ts";

/** Bodies past this are refused while they stream in. */
export const MAX_BODY_BYTES = 64 * 1024;

type PathGroup = { path: string; pattern: RegExp; names: string[]; byMethod: Map<string, Route> };

/**
 * Matches a path, then a method: an unknown path is a 404, a known path with the wrong
 * method a 405 with `Allow` (OPTIONS answers with the methods, and CORS grants for allowed
 * origins). Then access: the route's declared `access` against the request's token (401,
 * 403, 503), and the write rate limit (429). Then it validates the route's params, query and
 * body, so handlers only ever see valid input. Every error goes through the one mapper, and
 * every answer carries the CORS headers its Origin is allowed.
 */
export type RouterOptions = {
  log: Logger;
  observations: Observations;
  clientAddressOf: ClientAddressOf;
  gate: AccessGate;
  origins: OriginPolicy;
  /** Undefined: writes are not rate limited. */
  writeLimiter?: WriteRateLimiter;
};

export function createRouter(routes: readonly Route[], options: RouterOptions) {
  const { log, observations, clientAddressOf, origins } = options;
  const groups = groupByPath(routes);
  const serve = async (request: Request, server: Server<unknown>, matched: { route: string }): Promise<Response | undefined> => {
    let path: string | undefined;
    const extraHeaders: Record<string, string> = origins.corsHeaders(request);
    try {
      const url = requestUrl(request);
      path = url.pathname;
      observations.emit({ type: "request", method: request.method, path });
      for (const group of groups) {
        const match = group.pattern.exec(url.pathname);
        if (!match) continue;
        matched.route = group.path;
        if (request.method === "OPTIONS") return origins.preflight(request, allowedMethods(group));
        const route = group.byMethod.get(request.method === "HEAD" ? "GET" : request.method);
        if (!route) {
          throw new HttpProblem(405, `${request.method} is not allowed on ${url.pathname}`, {
            headers: { Allow: `${allowedMethods(group)}, OPTIONS` },
          });
        }
        const clientAddress = () => clientAddressOf(request, server);
        const { identity, refused } = await authorize(route, request, url, options);
        if (route.access === "write" && options.writeLimiter) {
          const decision = options.writeLimiter.take(identity ? `sub:${identity.sub}` : `address:${clientAddress()}`);
          Object.assign(extraHeaders, decision.headers);
          if (!decision.allowed) {
            observations.emit({ type: "write-rate-limited", retryAfterSeconds: decision.retryAfterSeconds });
            throw new HttpProblem(429, `Too many writes; retry in ${decision.retryAfterSeconds} s`);
          }
        }
        const params = parsePath(route, Object.fromEntries(group.names.map((name, index) => [name, match[index + 1]])));
        let query: unknown;
        if (route.query) {
          const parsed = v.safeParse(route.query, queryObject(url.searchParams));
          if (!parsed.success && route.onInvalidQuery) {
            const context = { request, server, url, params, query: undefined, body: undefined, clientAddress, identity, refused };
            const answer = await route.onInvalidQuery(parsed.issues, context);
            return answer && withHeaders(answer, extraHeaders);
          }
          if (!parsed.success) throw validationProblem("The query is not valid", parsed.issues);
          query = parsed.output;
        }
        const body = route.body ? await readBody(route.body, request) : undefined;
        const response = await route.handle({ request, server, url, params, query, body, clientAddress, identity, refused });
        return response && withHeaders(response, extraHeaders);
      }
      throw new HttpProblem(404, `Nothing lives at ${url.pathname}`);
    } catch (error) {
      if (clientWentAway(request, error)) {
        // Nobody is left to answer, and nothing for an operator to act on.
        observations.emit({ type: "request-aborted", method: request.method, path: path ?? "" });
        return problemResponse(new HttpProblem(400, "The client closed the connection before the request was complete"), path);
      }
      return withHeaders(problemResponse(toProblem(error, log), path), extraHeaders);
    }
  };

  // Every answer is observed by route template (never the raw path: a bounded set of labels); 101 is an upgrade.
  return async (request: Request, server: Server<unknown>): Promise<Response | undefined> => {
    const started = performance.now();
    const matched = { route: "unmatched" };
    const response = await serve(request, server, matched);
    const status = response?.status ?? 101;
    observations.emit({ type: "response", method: request.method, route: matched.route, status, durationMs: performance.now() - started });
    return response;
  };
}

/**
 * The route's access against the request's token. HTTP routes refuse at once; a WebSocket
 * handshake is refused with 403 only for a foreign Origin, and hands a refused token on.
 */
async function authorize(
  route: Route,
  request: Request,
  url: URL,
  { gate, origins, observations }: RouterOptions,
): Promise<{ identity: Identity | undefined; refused?: Extract<AccessDecision, { ok: false }> }> {
  // A plain GET of a WebSocket route (the page at /) carries no token and needs none; an event stream does.
  const handshake = route.websocket && isUpgrade(request);
  if (route.websocket && !handshake && !route.eventStream) return { identity: undefined };
  if (route.websocket) {
    const origin = request.headers.get("origin");
    if (origin !== null && !origins.allows(origin, request)) {
      observations.emit({
        type: "access-refused",
        transport: handshake ? "websocket" : "http",
        failure: "forbidden",
        description: "origin not allowed",
      });
      throw new HttpProblem(403, "This page's origin may not open the feed (see ALLOWED_ORIGINS)");
    }
  }
  const decision = await gate.check(route.access, route.websocket ? tokenFromHandshake(request, url) : tokenFromAuthorization(request));
  if (decision.ok) return { identity: decision.identity };
  observations.emit({
    type: "access-refused",
    transport: handshake ? "websocket" : "http",
    failure: decision.failure,
    description: decision.description,
  });
  if (handshake) return { identity: undefined, refused: decision };
  if (decision.failure === "unavailable") {
    throw new HttpProblem(503, `Cannot check your token right now: ${decision.description}; retry shortly`, {
      headers: { "Retry-After": "5" },
    });
  }
  const description = decision.description.replace(/["\\]/g, "");
  throw new HttpProblem(401, `Authentication failed: ${description}`, {
    headers: { "WWW-Authenticate": `Bearer error="invalid_token", error_description="${description}"` },
  });
}

/** Adds headers to a response (Vary is appended, never replaced). */
function withHeaders(response: Response, headers: Record<string, string>): Response {
  for (const [name, value] of Object.entries(headers)) {
    if (name === "Vary") response.headers.append(name, value);
    else response.headers.set(name, value);
  }
  return response;
}

/**
 * The request's URL, which Bun builds from the Host header: without a usable one (HTTP/1.0
 * without Host, `Host: a b`, a CONNECT target) there is no URL, and the client gets a 400.
 */
function requestUrl(request: Request): URL {
  let url: URL | undefined;
  try {
    url = new URL(request.url);
  } catch {}
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new HttpProblem(400, "The request needs a valid Host header and an origin-form target (/path)");
  }
  return url;
}

/** The body stopped because the client disconnected (Bun aborts the request's signal). */
function clientWentAway(request: Request, error: unknown): boolean {
  return request.signal.aborted && error instanceof Error && error.name === "AbortError";
}

function groupByPath(routes: readonly Route[]): PathGroup[] {
  const groups = new Map<string, PathGroup>();
  for (const route of routes) {
    let group = groups.get(route.path);
    if (!group) {
      const names = [...route.path.matchAll(/:(\w+)/g)].map((found) => found[1]!);
      const pattern = new RegExp(`^${route.path.replace(/:\w+/g, "([^/]+)")}$`);
      group = { path: route.path, pattern, names, byMethod: new Map() };
      groups.set(route.path, group);
    }
    if (group.byMethod.has(route.method)) throw new Error(`two routes for ${route.method} ${route.path}`);
    group.byMethod.set(route.method, route);
  }
  return [...groups.values()];
}

/** Search parameters as an object: a parameter given once is a string, a repeated one a list. */
function queryObject(parameters: URLSearchParams): Record<string, string | string[]> {
  const query = new Map<string, string | string[]>();
  for (const [key, value] of parameters) {
    const seen = query.get(key);
    if (seen === undefined) query.set(key, value);
    else if (Array.isArray(seen)) seen.push(value);
    else query.set(key, [seen, value]);
  }
  return Object.fromEntries(query); // own keys only, even for "__proto__"
}

function parse(schema: AnySchema, input: unknown, detail: string): unknown {
  const parsed = v.safeParse(schema, input);
  if (!parsed.success) throw validationProblem(detail, parsed.issues);
  return parsed.output;
}

function parsePath(route: Route, input: Record<string, string | undefined>): unknown {
  if (!route.params) return input;
  const parsed = v.safeParse(route.params, input);
  if (!parsed.success) throw new HttpProblem(404, parsed.issues[0].message);
  return parsed.output;
}

async function readBody(schema: AnySchema, request: Request): Promise<unknown> {
  const json = await readJsonBody(request, MAX_BODY_BYTES);
  const name = v.getTitle(schema) ?? "body";
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    const keys = Object.keys(objectEntries(schema));
    throw new HttpProblem(400, `The ${name} is not valid`, {
      issues: [{ path: "", message: `body must be a JSON object with ${keys.join(" and ")}` }],
    });
  }
  return parse(schema, json, `The ${name} is not valid`);
}

/** The entries of an object schema, piped or not. */
function objectEntries(schema: AnySchema): Record<string, unknown> {
  const withEntries = schema as { entries?: Record<string, unknown>; pipe?: AnySchema[] };
  return withEntries.entries ?? (withEntries.pipe?.[0] ? objectEntries(withEntries.pipe[0]) : {});
}

function allowedMethods(group: PathGroup): string {
  const methods = [...group.byMethod.keys()];
  return (methods.includes("GET") ? [...methods, "HEAD"] : methods).join(", ");
}
