import * as v from "valibot";
import { HttpProblem, validationProblem } from "../problem.ts";
import { readJsonBody } from "../read-json-body.ts";
import type { AnySchema, Route } from "../route.ts";
import { matchedRoute, routeContext, type Step } from "./exchange.ts";

/** Bodies past this are refused while they stream in. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * The route's params, query and body against its schemas, so handlers only ever see valid input:
 * a bad path segment names nothing (404), a bad query or body is a 400 with the issues.
 */
export const validate: Step = async (exchange, next) => {
  const { route, segments, url } = matchedRoute(exchange);
  const params = parsePath(route, segments);
  let query: unknown;
  if (route.query) {
    const parsed = v.safeParse(route.query, queryObject(url.searchParams));
    if (!parsed.success && route.onInvalidQuery) {
      return route.onInvalidQuery(parsed.issues, routeContext(exchange, { params, query: undefined, body: undefined }));
    }
    if (!parsed.success) throw validationProblem("The query is not valid", parsed.issues);
    query = parsed.output;
  }
  const body = route.body ? await readBody(route.body, exchange.request) : undefined;
  exchange.input = { params, query, body };
  return next();
};

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

function parsePath(route: Route, input: Record<string, string | undefined>): unknown {
  if (!route.params) return input;
  const parsed = v.safeParse(route.params, input);
  if (!parsed.success) throw new HttpProblem(404, parsed.issues[0].message);
  return parsed.output;
}

async function readBody(schema: AnySchema, request: Request): Promise<unknown> {
  const json = await readJsonBody(request, MAX_BODY_BYTES);
  const name = v.getTitle(schema) ?? "body";
  const detail = `The ${name} is not valid`;
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    const keys = Object.keys(objectEntries(schema));
    throw new HttpProblem(400, detail, { issues: [{ path: "", message: `body must be a JSON object with ${keys.join(" and ")}` }] });
  }
  const parsed = v.safeParse(schema, json);
  if (!parsed.success) throw validationProblem(detail, parsed.issues);
  return parsed.output;
}

/** The entries of an object schema, piped or not. */
function objectEntries(schema: AnySchema): Record<string, unknown> {
  const withEntries = schema as { entries?: Record<string, unknown>; pipe?: AnySchema[] };
  return withEntries.entries ?? (withEntries.pipe?.[0] ? objectEntries(withEntries.pipe[0]) : {});
}
