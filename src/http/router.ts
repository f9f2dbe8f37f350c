import type { Server } from "bun";
import * as v from "valibot";
import type { Logger } from "../logger.ts";
import type { Observations } from "../observations.ts";
import type { ClientAddressOf } from "./client-address.ts";
import { HttpProblem, problemResponse, toProblem, validationProblem } from "./problem.ts";
import { readJsonBody } from "./read-json-body.ts";
import type { AnySchema, Route } from "./route.ts";

/** Bodies past this are refused while they stream in. */
export const MAX_BODY_BYTES = 64 * 1024;

type PathGroup = { pattern: RegExp; names: string[]; byMethod: Map<string, Route> };

/**
 * Matches a path, then a method: an unknown path is a 404, a known path with the wrong
 * method a 405 with `Allow`. Then it validates the route's params, query and body, so
 * handlers only ever see valid input. Every error goes through the one mapper.
 */
export type RouterOptions = { log: Logger; observations: Observations; clientAddressOf: ClientAddressOf };

export function createRouter(routes: readonly Route[], { log, observations, clientAddressOf }: RouterOptions) {
  const groups = groupByPath(routes);
  return async (request: Request, server: Server<unknown>): Promise<Response | undefined> => {
    let path: string | undefined;
    try {
      const url = requestUrl(request);
      path = url.pathname;
      observations.emit({ type: "request", method: request.method, path });
      for (const group of groups) {
        const match = group.pattern.exec(url.pathname);
        if (!match) continue;
        const route = group.byMethod.get(request.method === "HEAD" ? "GET" : request.method);
        if (!route) {
          throw new HttpProblem(405, `${request.method} is not allowed on ${url.pathname}`, { headers: { Allow: allowedMethods(group) } });
        }
        const params = parsePath(route, Object.fromEntries(group.names.map((name, index) => [name, match[index + 1]])));
        const query = route.query ? parse(route.query, Object.fromEntries(url.searchParams), "The query is not valid") : undefined;
        const body = route.body ? await readBody(route.body, request) : undefined;
        const clientAddress = () => clientAddressOf(request, server);
        return await route.handle({ request, server, url, params, query, body, clientAddress });
      }
      throw new HttpProblem(404, `Nothing lives at ${url.pathname}`);
    } catch (error) {
      if (clientWentAway(request, error)) {
        // Nobody is left to answer, and nothing for an operator to act on.
        observations.emit({ type: "request-aborted", method: request.method, path: path ?? "" });
        return problemResponse(new HttpProblem(400, "The client closed the connection before the request was complete"), path);
      }
      return problemResponse(toProblem(error, log), path);
    }
  };
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
      group = { pattern, names, byMethod: new Map() };
      groups.set(route.path, group);
    }
    if (group.byMethod.has(route.method)) throw new Error(`two routes for ${route.method} ${route.path}`);
    group.byMethod.set(route.method, route);
  }
  return [...groups.values()];
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
