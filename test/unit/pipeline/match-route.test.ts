// The router's first decision: which route, from the path then the method (404, 405 with Allow, OPTIONS).
import { expect, test } from "bun:test";
import { matchRoute } from "../../../src/http/pipeline/match-route.ts";
import { resolveUrl } from "../../../src/http/pipeline/resolve-url.ts";
import { OriginPolicy } from "../../../src/http/origin-policy.ts";
import { createPost, exchangeFor, getPost, observed, run } from "./pipeline-fixture.ts";

const origins = new OriginPolicy({ kind: "same-origin" });
const steps = () => [resolveUrl(observed().observations), matchRoute([getPost, createPost], origins)];

test("matches a path template and records it for metrics", async () => {
  const exchange = exchangeFor("http://localhost/posts/abc");
  expect(await (await run(exchange, steps()))?.text()).toBe("reached");
  expect(exchange.routeTemplate).toBe("/posts/:id");
  expect(exchange.matched?.segments).toEqual({ id: "abc" });
});

test("an unknown path is a 404 naming it", () => {
  expect(run(exchangeFor("http://localhost/nothing"), steps())).rejects.toMatchObject({ status: 404, detail: "Nothing lives at /nothing" });
});

test("a known path with another method is a 405 listing the allowed ones", () => {
  expect(run(exchangeFor("http://localhost/posts", { method: "DELETE" }), steps())).rejects.toMatchObject({
    status: 405,
    extras: { headers: { Allow: "POST, OPTIONS" } },
  });
});

test("HEAD is served by the GET route", async () => {
  const exchange = exchangeFor("http://localhost/posts/abc", { method: "HEAD" });
  await run(exchange, steps());
  expect(exchange.matched?.route).toBe(getPost);
});

test("OPTIONS answers with the path's methods without reaching the route", async () => {
  const response = await run(exchangeFor("http://localhost/posts/abc", { method: "OPTIONS" }), steps());
  expect(response?.status).toBe(204);
  expect(response?.headers.get("Allow")).toBe("GET, HEAD, OPTIONS");
});
