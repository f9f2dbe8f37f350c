// Defends issue 18: the typed client reads the feed over SSE as over a WebSocket (same view, since, resync and terminal closes), says which transport it uses, and falls back to SSE by itself behind a proxy that refuses the upgrade.
import { expect, test } from "bun:test";
import { openFeed } from "../src/client/index.ts";
import { listAll } from "./support/feed-view.ts";
import { useMongo } from "./support/harness.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { PostWriter } from "./support/post-writer.ts";
import { TcpProxy } from "./support/tcp-proxy.ts";
import { connectDriver, postJson, startTestFeed } from "./support/test-feed.ts";
import { claims, nowSeconds, randomSecret, signHs256 } from "./support/tokens.ts";
import { UpgradeRefusingProxy } from "./support/upgrade-refusing-proxy.ts";
import { watch } from "./support/watch-feed.ts";

const mongo = useMongo();
const quickBackoff = { baseMs: 20, capMs: 500 };

test("over SSE: snapshot then stream, the view follows inserts, edits and deletes and ends equal to GET /posts", async () => {
  const uri = mongo.uri(uniqueDatabase("client_sse"));
  await using server = await startTestFeed(uri);
  const early = (await (await postJson(server.http, { author: "ada", content: "before the client" })).json()) as { id: string };
  const feed = openFeed({ url: server.http, transport: "sse", backoff: quickBackoff });
  const seen = watch(feed);
  await seen.until(() => feed.state === "live", "live");
  expect(feed.transport).toBe("sse");
  const later = (await (await postJson(server.http, { author: "bob", content: "after" })).json()) as { id: string };
  await fetch(`${server.http}/posts/${early.id}`, {
    method: "PATCH",
    headers: { "Content-Type": "application/json" },
    body: '{"content":"edited"}',
  });
  await fetch(`${server.http}/posts/${later.id}`, { method: "DELETE" });
  await seen.until(() => seen.items.some((item) => item.type === "delete"), "the delete");
  expect(seen.items.map((item) => item.type)).toEqual(["reset", "insert", "update", "delete"]);
  expect(new Map(feed.posts)).toEqual((await listAll(server.http)).view);
  expect(server.observed.of("event-stream-opened")).toHaveLength(1);
  expect(server.observed.of("socket-opened")).toHaveLength(0);
  feed.close();
});

test("over SSE through a server restart: it reconnects with since and misses nothing, doubles nothing", async () => {
  const uri = mongo.uri(uniqueDatabase("client_sse_restart"));
  await using driver = await connectDriver(uri);
  let server = await startTestFeed(uri);
  const first = new URL(server.http);
  using proxy = new TcpProxy({ hostname: first.hostname, port: Number(first.port) });
  const feed = openFeed({ url: `http://127.0.0.1:${proxy.port}`, transport: "sse", backoff: quickBackoff });
  const seen = watch(feed);
  await seen.until(() => feed.state === "live", "live");
  const writer = new PostWriter(driver.db().collection("posts"), 200);
  await writer.written(60);
  await server.close(); // the stream ends with a 1001 close frame: reconnect
  server = await startTestFeed(uri);
  const next = new URL(server.http);
  proxy.target = { hostname: next.hostname, port: Number(next.port) };
  const ids = await writer.done;
  await seen.until(() => ids.every(seen.has), "every post");
  expect(feed.reconnects).toBeGreaterThanOrEqual(1);
  expect(feed.transport).toBe("sse");
  expect(new Set(seen.positions()).size).toBe(seen.positions().length);
  expect(seen.items.filter((item) => item.type === "reset").length).toBe(1);
  expect(new Map(feed.posts)).toEqual((await listAll(server.http)).view);
  feed.close();
  await server.close();
}, 60_000);

test("auto, behind a proxy that refuses the upgrade: it falls back to SSE by itself and its view equals GET /posts", async () => {
  const uri = mongo.uri(uniqueDatabase("client_fallback"));
  await using server = await startTestFeed(uri);
  using proxy = new UpgradeRefusingProxy(server.http);
  await postJson(server.http, { author: "ada", content: "before" });
  const feed = openFeed({ url: proxy.url, backoff: quickBackoff });
  expect(feed.transport).toBe("websocket");
  const seen = watch(feed);
  await seen.until(() => feed.state === "live", "live");
  expect(feed.transport).toBe("sse");
  expect(proxy.refusedUpgrades).toBe(1);
  const ids: string[] = [];
  for (let n = 0; n < 20; n++)
    ids.push(((await (await postJson(proxy.url, { author: "bob", content: `via the proxy ${n}` })).json()) as { id: string }).id);
  await seen.until(() => ids.every(seen.has), "every post");
  expect(new Map(feed.posts)).toEqual((await listAll(server.http)).view);
  expect(feed.reconnects).toBe(0);
  feed.close();
});

test("auto, behind a balancer that closes every WebSocket before its first frame: SSE after at most two of them", async () => {
  const uri = mongo.uri(uniqueDatabase("client_cut"));
  await using server = await startTestFeed(uri);
  using proxy = new UpgradeRefusingProxy(server.http, "accept-and-close");
  const feed = openFeed({ url: proxy.url, backoff: quickBackoff });
  const seen = watch(feed);
  await seen.until(() => feed.transport === "sse" && feed.state === "live", "live over SSE");
  // Two sockets that opened and closed silently, or one whose close came with its opening (it never opened).
  expect(proxy.refusedUpgrades).toBeGreaterThanOrEqual(1);
  expect(proxy.refusedUpgrades).toBeLessThanOrEqual(2);
  const { id } = (await (await postJson(proxy.url, { author: "bob", content: "after the fallback" })).json()) as { id: string };
  await seen.until(() => seen.has(id), "the post");
  expect(new Map(feed.posts)).toEqual((await listAll(server.http)).view);
  feed.close();
});

test("auto, with nothing in the way: the WebSocket", async () => {
  await using server = await startTestFeed(mongo.uri(uniqueDatabase("client_auto")));
  const feed = openFeed({ url: server.http, backoff: quickBackoff });
  const seen = watch(feed);
  await seen.until(() => feed.state === "live", "live");
  expect(feed.transport).toBe("websocket");
  expect(server.observed.of("event-stream-opened")).toHaveLength(0);
  feed.close();
});

test("over SSE, a refusal (a bad filter: 400) stops the client as 4400 does on the socket", async () => {
  await using server = await startTestFeed(mongo.uri(uniqueDatabase("client_sse_terminal")));
  // `since` skips the snapshot, so the refusal is the event stream's own.
  const feed = openFeed({
    url: server.http,
    transport: "sse",
    filter: { id: ["not-an-id"] },
    since: "82000000000000000",
    backoff: quickBackoff,
  });
  const closes: { code: number; reason: string }[] = [];
  feed.on("closed", (close) => closes.push(close));
  for await (const _ of feed) {
  }
  expect(feed.state).toBe("closed");
  expect(closes).toEqual([{ code: 4400, reason: expect.stringContaining("id must be a post id") }]);
});

test("over SSE with auth on: at the token's expiry the stream ends with 4001 and the client reconnects with a fresh token, missing nothing", async () => {
  const secret = randomSecret();
  await using server = await startTestFeed(mongo.uri(uniqueDatabase("client_sse_auth")), { AUTH_JWT_SECRET: secret });
  const token = () => signHs256(secret, claims({ exp: nowSeconds() + 2 }));
  const feed = openFeed({ url: server.http, transport: "sse", token, backoff: quickBackoff });
  const seen = watch(feed);
  await seen.until(() => feed.state === "live", "live");
  const expired = server.observed.next("event-stream-closed", (closed) => closed.code === 4001);
  await expired;
  await seen.until(() => feed.reconnects >= 1 && feed.state === "live", "live again");
  const headers = { "Content-Type": "application/json", Authorization: `Bearer ${await token()}` };
  const { id } = (await (
    await fetch(`${server.http}/posts`, { method: "POST", headers, body: '{"content":"after the refresh"}' })
  ).json()) as { id: string };
  await seen.until(() => seen.has(id), "the post");
  expect(feed.transport).toBe("sse");
  feed.close();
});
