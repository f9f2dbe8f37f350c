import type { Server } from "bun";
import type * as v from "valibot";
import type { Access, AccessDecision } from "../auth/access-gate.ts";
import type { Identity } from "../auth/identity.ts";

export type Method = "GET" | "POST" | "PATCH" | "DELETE";
export type AnySchema = v.GenericSchema<unknown, unknown>;
type Output<S> = S extends AnySchema ? v.InferOutput<S> : undefined;

/** Whether a request asks to become a WebSocket. */
export const isUpgrade = (request: Request) => request.headers.get("upgrade")?.toLowerCase() === "websocket";

/** A success response; `schema` describes its JSON body. */
export type ResponseSpec = { description: string; schema?: AnySchema; headers?: Record<string, string>; contentType?: string };

/** What a handler gets: the raw request, and its path, query and body already validated. */
export type RouteContext<Params = unknown, Query = unknown, Body = unknown> = {
  request: Request;
  server: Server<unknown>;
  url: URL;
  params: Params;
  query: Query;
  body: Body;
  /** The client's address (the socket's peer, or X-Forwarded-For from a trusted proxy). */
  clientAddress: () => string;
  /** Who the caller is: undefined when anonymous (public reads) or when auth is off. */
  identity: Identity | undefined;
  /** WebSocket routes only: why the handshake's token was refused; the handler closes the socket in-band. */
  refused?: Extract<AccessDecision, { ok: false }>;
};

/**
 * One route as data: the router validates `params`, `query` and `body` with these schemas
 * before `handle` runs, and the same table describes the API (every response, and the
 * problem+json errors by status: a string there is the problem's description).
 */
export type RouteSpec<P = unknown, Q = unknown, B = unknown> = {
  method: Method;
  /** `/posts/:id`: each `:name` is one path segment, validated by `params`. */
  path: `/${string}`;
  summary: string;
  /** Who may call it; the router enforces it (401, 403, 503) before anything else runs. */
  access: Access;
  /**
   * A WebSocket handshake: the token may also come from the subprotocol or `access_token`; a
   * foreign Origin is refused with 403 before any upgrade; a refused token is handed to the
   * handler as `refused` (browsers cannot read a handshake's status, only a close code).
   */
  websocket?: true;
  /**
   * With `websocket`: a plain GET is a stream over HTTP (Server-Sent Events), whose token
   * (Authorization or `access_token`) is checked like any request's and refused with an HTTP error.
   */
  eventStream?: true;
  /** A failed path parameter means the path names nothing: 404 with the issue's message. */
  params?: P;
  query?: Q;
  /**
   * Answers a query that fails `query` instead of the router's 400: for the WebSocket, whose
   * clients cannot read an HTTP error on a handshake.
   */
  onInvalidQuery?: (
    issues: readonly v.BaseIssue<unknown>[],
    context: RouteContext<Output<P>, undefined, undefined>,
  ) => Response | undefined | Promise<Response | undefined>;
  /** A JSON object body (415, 413 and 400 are the router's); its title names it in errors. */
  body?: B;
  responses: Record<number, ResponseSpec | string>;
  handle(context: RouteContext<Output<P>, Output<Q>, Output<B>>): Response | undefined | Promise<Response | undefined>;
};

/** A route with its types erased, as the router and the API description see it. */
export type Route = RouteSpec<AnySchema | undefined, AnySchema | undefined, AnySchema | undefined>;

/** Checks a route against its schemas' types, then erases them for the table. */
export function defineRoute<
  P extends AnySchema | undefined = undefined,
  Q extends AnySchema | undefined = undefined,
  B extends AnySchema | undefined = undefined,
>(route: RouteSpec<P, Q, B>): Route {
  return route as unknown as Route;
}
