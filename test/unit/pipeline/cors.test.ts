// CORS grants are decided once per request and travel with every answer, errors included.
import { expect, test } from "bun:test";
import { cors } from "../../../src/http/pipeline/cors.ts";
import { OriginPolicy } from "../../../src/http/origin-policy.ts";
import { exchangeFor, run } from "./pipeline-fixture.ts";

const listed = new OriginPolicy({ kind: "listed", origins: ["https://app.example"] });

test("grants a listed origin", async () => {
  const exchange = exchangeFor("http://localhost/posts", { headers: { Origin: "https://app.example" } });
  await run(exchange, [cors(listed)]);
  expect(exchange.headers).toMatchObject({ "Access-Control-Allow-Origin": "https://app.example", Vary: "Origin" });
});

test("grants nothing to another origin, but still varies on Origin", async () => {
  const exchange = exchangeFor("http://localhost/posts", { headers: { Origin: "https://evil.example" } });
  await run(exchange, [cors(listed)]);
  expect(exchange.headers).toEqual({ Vary: "Origin" });
});
