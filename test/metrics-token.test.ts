// Defends issue 19: with METRICS_TOKEN set, /metrics (memory, descriptors, event-loop lag) is
// only for the scraper holding the token (401 problem otherwise, compared in constant time), and
// every answer, errors and 404s and refused upgrades included, says X-Content-Type-Options: nosniff.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startMongoTarget, uniqueDatabase, type MongoTarget } from "./support/mongo-target.ts";
import { rawHandshake } from "./support/raw-handshake.ts";
import { startTestFeed, type TestFeed } from "./support/test-feed.ts";

const TOKEN = "scraper-4b1c0f7e9a2d6c83a5e1";
let mongo: MongoTarget;
let guarded: TestFeed;
let open: TestFeed;

beforeAll(async () => {
  mongo = await startMongoTarget();
  guarded = await startTestFeed(mongo.uri(uniqueDatabase("metrics_token")), { METRICS_TOKEN: TOKEN });
  open = await startTestFeed(mongo.uri(uniqueDatabase("metrics_open")));
});
afterAll(async () => {
  await guarded?.close();
  await open?.close();
  await mongo?.[Symbol.asyncDispose]();
});

const scrape = (feed: TestFeed, authorization?: string) =>
  fetch(`${feed.http}/metrics`, authorization ? { headers: { Authorization: authorization } } : {});

describe("METRICS_TOKEN", () => {
  test("the scraper with Authorization: Bearer <token> gets the metrics", async () => {
    const response = await scrape(guarded, `Bearer ${TOKEN}`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("mongo_feed_");
  });

  for (const [what, authorization] of [
    ["no Authorization", undefined],
    ["another token", `Bearer ${TOKEN.slice(0, -1)}x`],
    ["a prefix of the token", `Bearer ${TOKEN.slice(0, 8)}`],
    ["the token as Basic", `Basic ${TOKEN}`],
  ] as const) {
    test(`${what} gets a 401 problem naming the header`, async () => {
      const response = await scrape(guarded, authorization);
      expect(response.status).toBe(401);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(response.headers.get("www-authenticate")).toBe('Bearer realm="metrics"');
      expect(await response.json()).toMatchObject({ status: 401, detail: "GET /metrics needs Authorization: Bearer <METRICS_TOKEN>" });
    });
  }

  test("unset, /metrics stays public", async () => {
    expect((await scrape(open)).status).toBe(200);
  });

  test("a token shorter than 16 bytes stops startup, without echoing it", async () => {
    await expect(startTestFeed(mongo.uri(uniqueDatabase("metrics_short")), { METRICS_TOKEN: "short-secret" })).rejects.toThrow(
      /METRICS_TOKEN \(--metrics-token\) must be at least 16 bytes.*got 12 bytes/,
    );
  });
});

describe("X-Content-Type-Options: nosniff on every answer", () => {
  for (const [what, request] of [
    ["a health answer", () => fetch(`${open.http}/health/live`)],
    ["the metrics", () => scrape(open)],
    ["a 401 from /metrics", () => scrape(guarded)],
    ["a page of posts", () => fetch(`${open.http}/posts`)],
    ["a 404", () => fetch(`${open.http}/nothing-here`)],
    ["a 405", () => fetch(`${open.http}/health/live`, { method: "DELETE" })],
    ["a 400", () => fetch(`${open.http}/posts`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" })],
    ["a preflight", () => fetch(`${open.http}/posts`, { method: "OPTIONS" })],
    ["the page at /", () => fetch(`${open.http}/`)],
  ] as const) {
    test(what, async () => {
      expect((await request()).headers.get("x-content-type-options")).toBe("nosniff");
    });
  }

  test("a refused WebSocket upgrade", async () => {
    const answer = await rawHandshake(open.ws, { Origin: "https://evil.example" });
    expect(answer.status).toBe(403);
    expect(answer.headers["x-content-type-options"]).toBe("nosniff");
  });
});
