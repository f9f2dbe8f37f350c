import type { Server } from "bun";
import * as v from "valibot";
import { compose, type Exchange, type Step } from "../../../src/http/pipeline/exchange.ts";
import { defineRoute, type Route } from "../../../src/http/route.ts";
import { Observations, type Observation } from "../../../src/observability/observations.ts";

/** An exchange for a request, as the router makes one (no server behind it: steps never use it here). */
export function exchangeFor(url: string, init?: RequestInit, fields: Partial<Exchange> = {}): Exchange {
  const request = new Request(url, init);
  return {
    request,
    server: undefined as unknown as Server<unknown>,
    headers: {},
    routeTemplate: "unmatched",
    clientAddress: () => "127.0.0.1",
    ...fields,
  };
}

/** Runs `steps` then a last step that answers 200 "reached" (or `last`). */
export function run(exchange: Exchange, steps: Step[], last: Step = async () => new Response("reached")): Promise<Response | undefined> {
  return compose([...steps, last])(exchange);
}

/** Observations collected in order. */
export function observed(): { observations: Observations; seen: Observation[] } {
  const observations = new Observations();
  const seen: Observation[] = [];
  observations.subscribe((observation) => seen.push(observation));
  return { observations, seen };
}

export const getPost: Route = defineRoute({
  method: "GET",
  path: "/posts/:id",
  summary: "one post",
  access: "read",
  params: v.object({ id: v.pipe(v.string(), v.regex(/^[0-9a-f]{24}$/, "No post has this id")) }),
  query: v.strictObject({ verbose: v.optional(v.literal("1")) }),
  responses: { 200: { description: "the post" } },
  handle: ({ params, query }) => Response.json({ params, query }),
});

export const createPost: Route = defineRoute({
  method: "POST",
  path: "/posts",
  summary: "create",
  access: "write",
  body: v.pipe(v.object({ content: v.string() }), v.title("post")),
  responses: { 201: { description: "created" } },
  handle: ({ body }) => Response.json(body, { status: 201 }),
});

export const feed: Route = defineRoute({
  method: "GET",
  path: "/",
  summary: "the feed",
  access: "read",
  websocket: true,
  responses: { 101: { description: "upgraded" } },
  handle: () => new Response("page"),
});
