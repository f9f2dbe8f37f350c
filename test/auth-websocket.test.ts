// Defends: the feed's WebSocket takes a token from the subprotocol, Authorization or access_token, echoes only mongo-feed.v1, and closes at the token's expiry (4001) unless refreshed with the same sub (another sub: 4403).
import { describe, expect, test } from "bun:test";
import { FeedClient } from "./support/feed-client.ts";
import { type FeedFixture, useFeed, useMongo } from "./support/harness.ts";
import { rawHandshake } from "./support/raw-handshake.ts";
import { postJson } from "./support/test-feed.ts";
import { claims, nowSeconds, randomSecret, signHs256 } from "./support/tokens.ts";

const mongo = useMongo();
const secret = randomSecret();
const feed = useFeed({ mongo, database: "ws_auth", env: { AUTH_JWT_SECRET: secret } });
const openFeed = useFeed({ mongo, database: "ws_open" });

const token = (overrides = {}) => signHs256(secret, claims(overrides));
const viaSubprotocol = async (overrides = {}) => ({ protocols: ["mongo-feed.v1", `bearer.${await token(overrides)}`] });

/** Posts with a token and waits until `client` has it: proof the socket is open and subscribed. */
async function receivesAPost(target: FeedFixture, client: FeedClient): Promise<void> {
  const before = client.inserts.length;
  const headers = { "Content-Type": "application/json", Authorization: `Bearer ${await token()}` };
  const body = JSON.stringify(target === feed ? { content: "are you there" } : { author: "a", content: "are you there" });
  expect((await fetch(`${target.http}/posts`, { method: "POST", headers, body })).status).toBe(201);
  await client.untilInserts(before + 1);
}

describe("where the token travels", () => {
  test("in the subprotocol (what browsers can send): answered with mongo-feed.v1 only", async () => {
    const client = await FeedClient.connect(feed.ws, await viaSubprotocol());
    expect(client.protocol).toBe("mongo-feed.v1");
    await receivesAPost(feed, client);
    client.close();
  });

  test("in Authorization: Bearer, for clients that can set headers", async () => {
    const client = await FeedClient.connect(feed.ws, { headers: { Authorization: `Bearer ${await token()}` } });
    expect(client.protocol).toBe("");
    await receivesAPost(feed, client);
    client.close();
  });

  test("in the access_token query parameter", async () => {
    const client = await FeedClient.connect(`${feed.ws}?access_token=${await token()}`);
    await receivesAPost(feed, client);
    client.close();
  });

  test("more than one way at once is refused with 4401", async () => {
    const client = await FeedClient.connect(`${feed.ws}?access_token=${await token()}`, await viaSubprotocol());
    expect(await client.closed).toEqual({ code: 4401, reason: "send the token one way only" });
  });

  for (const [mode, target] of [
    ["auth on", () => feed],
    ["auth off", () => openFeed],
  ] as const) {
    test(`${mode}: no subprotocol other than mongo-feed.v1 is ever echoed`, async () => {
      const jwt = await token();
      const others = await rawHandshake(target().ws, { "Sec-WebSocket-Protocol": `graphql-ws, bearer.${jwt}` });
      expect(others.status).toBe(101);
      expect(others.headers["sec-websocket-protocol"]).toBeUndefined();
      const ours = await rawHandshake(target().ws, { "Sec-WebSocket-Protocol": `bearer.${jwt}, mongo-feed.v1` });
      expect(ours.status).toBe(101);
      expect(ours.headers["sec-websocket-protocol"]).toBe("mongo-feed.v1");
    });
  }
});

describe("live tokens expire", () => {
  test("the socket closes with 4001 when the token's exp passes", async () => {
    const client = await FeedClient.connect(feed.ws, await viaSubprotocol({ exp: nowSeconds() + 2 }));
    expect(await client.closed).toEqual({ code: 4001, reason: "token expired" });
    await feed.observed.waitFor("socket-closed", (closed) => closed.code === 4001);
  });

  test("a refresh with the same sub and a later exp keeps the socket open past the first exp", async () => {
    const shortLived = await viaSubprotocol({ exp: nowSeconds() + 2 });
    const refreshed = await FeedClient.connect(feed.ws, shortLived);
    const notRefreshed = await FeedClient.connect(feed.ws, shortLived);
    const laterExp = nowSeconds() + 600;
    refreshed.send({ type: "auth", token: await token({ exp: laterExp }) });
    await refreshed.until((frames) => frames.some((frame) => frame.type === "auth"), 5_000, "the auth answer");
    expect(refreshed.raw[0]).toBe(JSON.stringify({ type: "auth", expiresAt: new Date(laterExp * 1000).toISOString() }));
    // The first token's exp has passed once its other socket is closed for it.
    expect(await notRefreshed.closed).toEqual({ code: 4001, reason: "token expired" });
    await receivesAPost(feed, refreshed);
    refreshed.close();
  });

  test("a refresh whose exp is not later changes nothing, and says so", async () => {
    const exp = nowSeconds() + 600;
    const client = await FeedClient.connect(feed.ws, await viaSubprotocol({ exp }));
    client.send({ type: "auth", token: await token({ exp: exp - 60 }) });
    await client.until((frames) => frames.some((frame) => frame.type === "auth"), 5_000, "the auth answer");
    expect(client.frames[0]).toEqual({ type: "auth", expiresAt: new Date(exp * 1000).toISOString() });
    client.close();
  });

  test("a refresh for another sub closes with 4403", async () => {
    const client = await FeedClient.connect(feed.ws, await viaSubprotocol({ sub: "user-ada" }));
    client.send({ type: "auth", token: await token({ sub: "user-mallory" }) });
    expect(await client.closed).toEqual({ code: 4403, reason: "the refreshed token is for another subject" });
  });

  test("an invalid refresh token closes with 4401 and the reason", async () => {
    const client = await FeedClient.connect(feed.ws, await viaSubprotocol());
    client.send({ type: "auth", token: await signHs256(randomSecret(), claims()) });
    expect(await client.closed).toEqual({ code: 4401, reason: "the token's signature does not verify" });
  });

  test("frames that are not JSON or not an auth frame are ignored", async () => {
    const client = await FeedClient.connect(feed.ws, await viaSubprotocol());
    client.send("not json");
    client.send({ type: "hello" });
    client.send({ type: "auth", token: 42 });
    await receivesAPost(feed, client);
    expect(client.frames.map((frame) => frame.type)).toEqual(["insert"]);
    client.close();
  });

  test("with auth off an auth frame is ignored like any other client frame", async () => {
    const client = await FeedClient.connect(openFeed.ws);
    client.send({ type: "auth", token: await token() });
    await receivesAPost(openFeed, client);
    expect(client.frames.map((frame) => frame.type)).toEqual(["insert"]);
    expect((await postJson(openFeed.http, { author: "a", content: "b" })).status).toBe(201);
    client.close();
  });
});
