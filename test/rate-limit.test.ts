// Defends: writes are limited per identity by a token bucket with bounded memory; over the limit a 429 says when to retry (Retry-After, RateLimit-Policy, RateLimit per draft-ietf-httpapi-ratelimit-headers-10).
import { describe, expect, test } from "bun:test";
import { WriteRateLimiter } from "../src/http/write-rate-limiter.ts";
import { useMongo } from "./support/harness.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { postJson, startTestFeed } from "./support/test-feed.ts";
import { claims, randomSecret, signHs256 } from "./support/tokens.ts";

const mongo = useMongo();
const secret = randomSecret();

const postWith = (http: string, headers: Record<string, string>, body: unknown) =>
  fetch(`${http}/posts`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) });

describe("over HTTP", () => {
  test("auth on: the burst passes, the next write is 429 with Retry-After and RateLimit headers; another sub is not affected", async () => {
    const database = uniqueDatabase("rate");
    await using feed = await startTestFeed(mongo.uri(database), {
      AUTH_JWT_SECRET: secret,
      WRITE_RATE_LIMIT_PER_MINUTE: "1",
      WRITE_RATE_LIMIT_BURST: "2",
    });
    const ada = { Authorization: `Bearer ${await signHs256(secret, claims({ sub: "ada" }))}` };
    const first = await postWith(feed.http, ada, { content: "1" });
    expect(first.status).toBe(201);
    expect(first.headers.get("ratelimit-policy")).toBe('"writes";q=2;w=120');
    expect(first.headers.get("ratelimit")).toBe('"writes";r=1;t=60');
    expect((await postWith(feed.http, ada, { content: "2" })).headers.get("ratelimit")).toBe('"writes";r=0;t=60');

    const limited = await postWith(feed.http, ada, { content: "3" });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("60");
    expect(limited.headers.get("ratelimit-policy")).toBe('"writes";q=2;w=120');
    expect(limited.headers.get("ratelimit")).toBe('"writes";r=0;t=60');
    expect(await limited.json()).toMatchObject({ status: 429, title: "Too Many Requests", detail: "Too many writes; retry in 60 s" });
    await feed.observed.waitFor("write-rate-limited");
    expect(await mongo.driver.db(database).collection("posts").countDocuments()).toBe(2);

    const grace = { Authorization: `Bearer ${await signHs256(secret, claims({ sub: "grace" }))}` };
    expect((await postWith(feed.http, grace, { content: "4" })).status).toBe(201);
    expect((await fetch(`${feed.http}/posts`, { headers: ada })).status).toBe(200); // reads are not writes
  });

  test("auth on, 0: no limit and no RateLimit headers", async () => {
    await using feed = await startTestFeed(mongo.uri(uniqueDatabase("rate_zero")), {
      AUTH_JWT_SECRET: secret,
      WRITE_RATE_LIMIT_PER_MINUTE: "0",
    });
    const headers = { Authorization: `Bearer ${await signHs256(secret, claims())}` };
    for (let n = 0; n < 25; n++) {
      const response = await postWith(feed.http, headers, { content: `${n}` });
      expect(response.status).toBe(201);
      expect(response.headers.get("ratelimit")).toBeNull();
    }
  });

  test("auth off: no limit by default", async () => {
    await using feed = await startTestFeed(mongo.uri(uniqueDatabase("rate_open")));
    for (let n = 0; n < 25; n++) expect((await postJson(feed.http, { author: "a", content: `${n}` })).status).toBe(201);
  });

  test("auth off with a limit set: counted per client address", async () => {
    await using feed = await startTestFeed(mongo.uri(uniqueDatabase("rate_address")), { WRITE_RATE_LIMIT_BURST: "1", TRUST_PROXY: "true" });
    const from = (address: string) => ({ "X-Forwarded-For": address });
    expect((await postWith(feed.http, from("203.0.113.1"), { author: "a", content: "1" })).status).toBe(201);
    expect((await postWith(feed.http, from("203.0.113.1"), { author: "a", content: "2" })).status).toBe(429);
    expect((await postWith(feed.http, from("203.0.113.2"), { author: "a", content: "3" })).status).toBe(201);
  });
});

describe("the token buckets", () => {
  test("refill at the configured rate up to the burst", () => {
    let now = 0;
    const limiter = new WriteRateLimiter({ perMinute: 60, burst: 3 }, () => now);
    expect([1, 2, 3, 4].map(() => limiter.take("ada").allowed)).toEqual([true, true, true, false]);
    now += 1_000; // one write per second comes back
    expect(limiter.take("ada").allowed).toBe(true);
    expect(limiter.take("ada").allowed).toBe(false);
    now += 60_000; // never more than the burst
    expect([1, 2, 3, 4].map(() => limiter.take("ada").allowed)).toEqual([true, true, true, false]);
  });

  test("memory is bounded: a flood of identities never keeps more than the maximum of buckets", () => {
    const limiter = new WriteRateLimiter({ perMinute: 60, burst: 1 }, () => 0, 1_000);
    for (let n = 0; n < 50_000; n++) limiter.take(`attacker-${n}`);
    expect(limiter.size).toBe(1_000);
    // The least recently used are forgotten first; the most recent are still counted.
    expect(limiter.take("attacker-49999").allowed).toBe(false);
  });
});
