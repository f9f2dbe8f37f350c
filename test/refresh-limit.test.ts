// Defends issue 19: a socket cannot buy the server's CPU with token refreshes. Auth frames are
// limited to a burst of 5, then 5 a minute (past it: close 4429); a frame repeating the token the
// socket was last answered for is answered from memory, without checking the token again.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { REFRESH_BURST } from "../src/feed/refresh-allowance.ts";
import { CloseCodes } from "../src/protocol/close-codes.ts";
import { FeedClient } from "./support/feed-client.ts";
import { startMongoTarget, uniqueDatabase, type MongoTarget } from "./support/mongo-target.ts";
import { startTestFeed, type TestFeed } from "./support/test-feed.ts";
import { claims, nowSeconds, randomSecret, signHs256 } from "./support/tokens.ts";

const secret = randomSecret();
let mongo: MongoTarget;
let feed: TestFeed;

beforeAll(async () => {
  mongo = await startMongoTarget();
  feed = await startTestFeed(mongo.uri(uniqueDatabase("refresh_limit")), { AUTH_JWT_SECRET: secret });
});
afterAll(async () => {
  await feed?.close();
  await mongo?.[Symbol.asyncDispose]();
});

const token = (overrides = {}) => signHs256(secret, claims(overrides));
const open = async () => FeedClient.connect(feed.ws, { protocols: ["mongo-feed.v1", `bearer.${await token()}`] });
const authAnswers = (client: FeedClient) => client.frames.filter((frame) => frame.type === "auth").length;

test("a burst of refreshes past the limit closes the socket with 4429 after answering the allowed ones", async () => {
  const client = await open();
  for (let i = 0; i <= REFRESH_BURST; i++) client.send({ type: "auth", token: await token({ exp: nowSeconds() + 600 + i }) });
  expect(await client.closed).toEqual({ code: 4429, reason: CloseCodes.tooManyRefreshes.reason });
  expect(authAnswers(client)).toBeLessThanOrEqual(REFRESH_BURST);
  await feed.observed.waitFor("socket-closed-by-server", (closed) => closed.code === 4429);
});

test("a flood of refreshes costs the server at most the burst of checks", async () => {
  const client = await open();
  const jwt = await token({ exp: nowSeconds() + 700 });
  const before = feed.observed.of("token-refreshed").length;
  for (let i = 0; i < 1_000; i++) client.send({ type: "auth", token: jwt });
  expect((await client.closed).code).toBe(4429);
  const checked = feed.observed.of("token-refreshed").slice(before);
  expect(checked.length).toBeLessThanOrEqual(REFRESH_BURST);
});

test("the same token again is answered without being checked again", async () => {
  const client = await open();
  const exp = nowSeconds() + 900;
  const jwt = await token({ exp });
  const expiresAt = new Date(exp * 1000).toISOString();
  const first = feed.observed.next("token-refreshed", (seen) => seen.expiresAt === expiresAt && !seen.unchanged);
  client.send({ type: "auth", token: jwt });
  await first;
  const again = feed.observed.next("token-refreshed", (seen) => seen.expiresAt === expiresAt && seen.unchanged);
  client.send({ type: "auth", token: jwt });
  await again;
  await client.until((frames) => frames.filter((frame) => frame.type === "auth").length === 2, 5_000, "two auth answers");
  expect(client.frames.filter((frame) => frame.type === "auth")).toEqual([
    { type: "auth", expiresAt },
    { type: "auth", expiresAt },
  ]);
  client.close();
});

test("an oversize frame is refused by Bun with 1009 before any work", async () => {
  const client = await open();
  client.send({ type: "auth", token: "x".repeat(17 * 1024) });
  expect((await client.closed).code).toBe(1009);
});
