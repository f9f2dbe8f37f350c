// Defends issue 19: the JWKS cooldown holds in every state. Whether the last key fetch succeeded
// or failed, tokens with made-up kids (no valid token needed) cause at most one fetch in flight
// and at most one per cooldown (failures back off further), and tokens waiting share the fetch.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { JwksKeySource, KeysUnavailable } from "../src/auth/jwks-key-source.ts";
import { Observations } from "../src/observability/observations.ts";
import { startMongoTarget, uniqueDatabase, type MongoTarget } from "./support/mongo-target.ts";
import { ServerProcess } from "./support/server-process.ts";
import { claims, JwksServer, signWith, unsecured } from "./support/tokens.ts";

const ISSUER = "https://id.test/";
const AUDIENCE = "mongo-feed";
let mongo: MongoTarget;

beforeAll(async () => {
  mongo = await startMongoTarget();
});
afterAll(() => mongo?.[Symbol.asyncDispose]());

/** An unsigned token under a made-up kid, as anyone can write one. */
const forged = () => {
  const [, payload] = unsecured(claims({ iss: ISSUER, aud: AUDIENCE })).split(".");
  const header = Buffer.from(JSON.stringify({ alg: "RS256", kid: crypto.randomUUID() })).toString("base64url");
  return `${header}.${payload}.${Buffer.from("not a signature").toString("base64url")}`;
};
const post = (http: string, token: string) =>
  fetch(`${http}/posts`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ content: "hello" }),
  });

// In a child process: in this one, the 300 requests in flight would hold every connection of
// Bun's fetch pool, and the server's own key fetch would wait behind them.
const feedFor = async (provider: JwksServer) => {
  const server = ServerProcess.spawn({
    MONGODB_URI: mongo.uri(uniqueDatabase("jwks_cooldown")),
    AUTH_JWKS_URL: provider.url,
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
  });
  return Object.assign(server, await server.listening());
};

test("with the key server failing, 300 concurrent and 100 more forged tokens cause one fetch and one warning", async () => {
  await using provider = new JwksServer();
  provider.failing = true;
  await using feed = await feedFor(provider);
  const concurrent = await Promise.all(Array.from({ length: 300 }, () => post(feed.http, forged())));
  expect(new Set(concurrent.map((response) => response.status))).toEqual(new Set([503]));
  await feed.waitForEvent("jwks-unavailable");
  for (let n = 0; n < 100; n++) expect((await post(feed.http, forged())).status).toBe(503);
  expect(provider.fetches).toBe(1);
  expect(feed.logs.filter((line) => line.event === "jwks-unavailable")).toHaveLength(1);
  expect(feed.logs.find((line) => line.event === "jwks-unavailable")).toMatchObject({ failures: 1, retryInMs: 30_000 });
});

test("with the key server healthy, 300 concurrent forged tokens share one fetch and are refused with 401", async () => {
  await using provider = new JwksServer();
  const key = await provider.publish("RS256");
  await using feed = await feedFor(provider);
  const concurrent = await Promise.all(Array.from({ length: 300 }, () => post(feed.http, forged())));
  expect(new Set(concurrent.map((response) => response.status))).toEqual(new Set([401]));
  expect(provider.fetches).toBe(1);
  expect((await post(feed.http, await signWith(key, claims({ iss: ISSUER, aud: AUDIENCE })))).status).toBe(201);
  expect(provider.fetches).toBe(1);
});

test("failures back off further: after the n-th failure in a row the next fetch waits cooldown × 2^(n-1)", async () => {
  await using provider = new JwksServer();
  provider.failing = true;
  let now = 0;
  const observations = new Observations();
  const failures: { failures: number; retryInMs: number }[] = [];
  observations.subscribe((seen) => void (seen.type === "jwks-unavailable" && failures.push(seen)));
  const stop = new AbortController();
  const source = new JwksKeySource({
    url: new URL(provider.url),
    cooldownMs: 10_000,
    timeoutMs: 5_000,
    maxAgeMs: 600_000,
    observations,
    signal: stop.signal,
    now: () => now,
  });
  const header = { alg: "RS256", kid: "made-up" };
  const attempt = () => source.getKey(header, { payload: "", signature: "" } as never);
  try {
    for (const [at, fetches] of [
      [0, 1],
      [9_999, 1],
      [10_000, 2],
      [29_999, 2],
      [30_000, 3],
      [69_999, 3],
      [70_000, 4],
    ] as const) {
      now = at;
      await Promise.all(Array.from({ length: 10 }, () => expect(attempt()).rejects.toBeInstanceOf(KeysUnavailable)));
      expect(provider.fetches).toBe(fetches);
    }
    expect(failures.map((seen) => seen.retryInMs)).toEqual([10_000, 20_000, 40_000, 80_000]);
    provider.failing = false;
    now = 150_000;
    await expect(attempt()).rejects.toThrow("no applicable key found"); // the set is empty: fetched, and no kid matches
    now = 150_001;
    await expect(attempt()).rejects.toThrow("no applicable key found"); // within the cooldown: not fetched again
    expect(provider.fetches).toBe(5);
  } finally {
    stop.abort();
  }
});
