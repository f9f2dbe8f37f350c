// Defends issue 19: a validly signed token whose exp, nbf or iat lies far outside any sane range
// (exp 1e15 is not even a date) is refused like any invalid token, over HTTP (401) and in a
// refresh frame (4401), and never turns into an unhandled rejection in the server.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { FeedClient } from "./support/feed-client.ts";
import { startMongoTarget, uniqueDatabase, type MongoTarget } from "./support/mongo-target.ts";
import { ServerProcess } from "./support/server-process.ts";
import { startTestFeed, type TestFeed } from "./support/test-feed.ts";
import { claims, nowSeconds, randomSecret, signHs256 } from "./support/tokens.ts";

const secret = randomSecret();
let mongo: MongoTarget;
let feed: TestFeed;

beforeAll(async () => {
  mongo = await startMongoTarget();
  feed = await startTestFeed(mongo.uri(uniqueDatabase("absurd_claims")), { AUTH_JWT_SECRET: secret });
});
afterAll(async () => {
  await feed?.close();
  await mongo?.[Symbol.asyncDispose]();
});

const token = (overrides = {}) => signHs256(secret, claims(overrides));
const absurd = [
  ["exp 1e15", { exp: 1e15 }, "the token's exp claim is out of range"],
  ["exp ten years ahead", { exp: nowSeconds() + 10 * 366 * 86_400 }, "the token's exp claim is out of range"],
  ["nbf -1e15", { nbf: -1e15 }, "the token's nbf claim is out of range"],
  ["iat 1e300", { iat: 1e300 }, "the token's iat claim is out of range"],
] as const;

for (const [name, overrides, reason] of absurd) {
  test(`HTTP: a token with ${name} gets 401 and the reason`, async () => {
    const response = await fetch(`${feed.http}/posts`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${await token(overrides)}` },
      body: JSON.stringify({ content: "hello" }),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { detail: string }).detail).toBe(`Authentication failed: ${reason}`);
  });

  test(`a refresh frame with ${name} closes the socket with 4401 and the reason`, async () => {
    const client = await FeedClient.connect(feed.ws, { protocols: ["mongo-feed.v1", `bearer.${await token()}`] });
    client.send({ type: "auth", token: await token(overrides) });
    expect(await client.closed).toEqual({ code: 4401, reason });
  });
}

test("a token valid for a year still gets in", async () => {
  const client = await FeedClient.connect(feed.ws, {
    protocols: ["mongo-feed.v1", `bearer.${await token({ exp: nowSeconds() + 365 * 86_400 })}`],
  });
  client.send({ type: "auth", token: await token({ exp: nowSeconds() + 365 * 86_400 + 60 }) });
  await client.until((frames) => frames.some((frame) => frame.type === "auth"), 5_000, "the auth answer");
  client.close();
});

test("the server process logs no unhandled rejection and prints no stack for an exp of 1e15", async () => {
  await using server = ServerProcess.spawn({ MONGODB_URI: mongo.uri(uniqueDatabase("absurd_child")), AUTH_JWT_SECRET: secret });
  const { ws } = await server.listening();
  const client = await FeedClient.connect(ws, { protocols: ["mongo-feed.v1", `bearer.${await token()}`] });
  client.send({ type: "auth", token: await token({ exp: 1e15 }) });
  expect(await client.closed).toEqual({ code: 4401, reason: "the token's exp claim is out of range" });
  expect(server.logs.filter((line) => line.event === "unhandled-rejection" || line.event === "uncaught-exception")).toEqual([]);
  expect(server.stderr).toBe("");
});
