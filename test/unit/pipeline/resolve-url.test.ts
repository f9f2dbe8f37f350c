// A request without a usable Host has no URL: a 400, and no request observation.
import { expect, test } from "bun:test";
import { resolveUrl } from "../../../src/http/pipeline/resolve-url.ts";
import { exchangeFor, observed, run } from "./pipeline-fixture.ts";

test("sets the URL and observes the request by path", async () => {
  const { observations, seen } = observed();
  const exchange = exchangeFor("http://localhost/posts?x=1");
  await run(exchange, [resolveUrl(observations)]);
  expect(exchange.url?.pathname).toBe("/posts");
  expect(seen).toEqual([{ type: "request", method: "GET", path: "/posts" }]);
});

test("refuses a request whose URL is not http(s) with 400", () => {
  const { observations, seen } = observed();
  const exchange = exchangeFor("http://localhost/");
  Object.defineProperty(exchange.request, "url", { value: "example.com:443" });
  expect(run(exchange, [resolveUrl(observations)])).rejects.toMatchObject({ status: 400 });
  expect(seen).toEqual([]);
});
