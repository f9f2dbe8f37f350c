// Every answer carries the exchange's headers, errors included; Vary is appended once, never replaced.
import { expect, test } from "bun:test";
import { answerHeaders, withHeaders } from "../../../src/http/pipeline/answer-headers.ts";
import { exchangeFor, run } from "./pipeline-fixture.ts";

test("adds the exchange's headers to the answer", async () => {
  const exchange = exchangeFor("http://localhost/", undefined, { headers: { "RateLimit-Policy": "p" } });
  const response = await run(exchange, [answerHeaders]);
  expect(response?.headers.get("RateLimit-Policy")).toBe("p");
});

test("appends Vary without repeating a value already there", () => {
  const response = new Response(null, { headers: { Vary: "Accept-Encoding, Origin" } });
  withHeaders(response, { Vary: "Origin" });
  expect(response.headers.get("Vary")).toBe("Accept-Encoding, Origin");
  withHeaders(response, { Vary: "Authorization" });
  expect(response.headers.get("Vary")).toBe("Accept-Encoding, Origin, Authorization");
});

test("an upgrade (no response) passes through", async () => {
  expect(await run(exchangeFor("http://localhost/"), [answerHeaders], async () => undefined)).toBeUndefined();
});
