// Every answer is observed by route template, status and duration; an upgrade counts as 101.
import { expect, test } from "bun:test";
import { observeResponse } from "../../../src/http/pipeline/observe-response.ts";
import { exchangeFor, observed, run } from "./pipeline-fixture.ts";

test("observes the status under the route template", async () => {
  const { observations, seen } = observed();
  const exchange = exchangeFor("http://localhost/posts/abc", undefined, { routeTemplate: "/posts/:id" });
  await run(exchange, [observeResponse(observations)], async () => new Response(null, { status: 204 }));
  expect(seen).toEqual([{ type: "response", method: "GET", route: "/posts/:id", status: 204, durationMs: expect.any(Number) }]);
});

test("an upgrade is observed as 101", async () => {
  const { observations, seen } = observed();
  await run(exchangeFor("http://localhost/"), [observeResponse(observations)], async () => undefined);
  expect(seen[0]).toMatchObject({ status: 101, route: "unmatched" });
});
