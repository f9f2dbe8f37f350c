// Defends issue 18: GET /feed serves the feed as Server-Sent Events with the WebSocket's frames, query, access rules, caps and exact resume (Last-Event-ID or since, on any instance), and a WebSocket upgrade there works as at /.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FeedClient } from "./support/feed-client.ts";
import { followSseWithReconnects } from "./support/follow-sse.ts";
import { startMongoTarget, uniqueDatabase, type MongoTarget } from "./support/mongo-target.ts";
import { PostWriter, postIds } from "./support/post-writer.ts";
import { rawRequest } from "./support/raw-http.ts";
import { ServerProcess } from "./support/server-process.ts";
import { SseClient } from "./support/sse-client.ts";
import { connectDriver, postJson, startTestFeed, type TestFeed } from "./support/test-feed.ts";
import { claims, nowSeconds, randomSecret, signHs256 } from "./support/tokens.ts";

let mongo: MongoTarget;
let feed: TestFeed;

beforeAll(async () => {
  mongo = await startMongoTarget();
  feed = await startTestFeed(mongo.uri(uniqueDatabase("sse")));
});

afterAll(async () => {
  await feed?.close();
  await mongo?.[Symbol.asyncDispose]();
});

const post = async (target: TestFeed, content: string) =>
  (await (await postJson(target.http, { author: "sse", content })).json()) as { id: string };

describe("the stream", () => {
  test("is text/event-stream, never cached or buffered, starts with retry, and carries each post as the WebSocket's frame with its position as id", async () => {
    await using stream = await SseClient.open(`${feed.http}/feed`);
    const socket = await FeedClient.connect(feed.ws);
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get("content-type")).toBe("text/event-stream");
    expect(stream.response.headers.get("cache-control")).toBe("no-cache");
    expect(stream.response.headers.get("x-accel-buffering")).toBe("no");
    await stream.until(() => stream.retry !== undefined, 5_000, "the retry line");
    expect(stream.retry).toBe(1_000);

    const { id } = await post(feed, "over SSE");
    await stream.untilInserts(1);
    await socket.untilInserts(1);
    expect(stream.events.map((event) => event.data)).toEqual(socket.raw); // byte for byte the WebSocket's frames
    expect(stream.events[0]!.id).toBe((socket.frames[0] as { position: string }).position);
    expect(postIds(stream.inserts)).toEqual([id]);
    const metrics = await (await fetch(`${feed.http}/metrics`)).text();
    expect(metrics).toMatch(/^mongo_feed_event_streams 1$/m);
    socket.close();
  });

  test("applies the WebSocket's filters", async () => {
    await using mine = await SseClient.open(`${feed.http}/feed?author=me`);
    await using theirs = await SseClient.open(`${feed.http}/feed?author=them`);
    const { id } = (await (await postJson(feed.http, { author: "me", content: "mine" })).json()) as { id: string };
    await postJson(feed.http, { author: "them", content: "theirs" });
    await mine.untilInserts(1);
    await theirs.untilInserts(1);
    expect(postIds(mine.inserts)).toEqual([id]);
  });

  test("a bad filter is a 400 problem before any stream starts", async () => {
    const response = await fetch(`${feed.http}/feed?types=nope`);
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(await response.json()).toMatchObject({ status: 400, issues: [{ path: "types.0", message: expect.stringContaining("nope") }] });
    const unknown = await fetch(`${feed.http}/feed?colour=red`);
    expect(unknown.status).toBe(400);
  });

  test("an unknown since is told resync, as on the WebSocket", async () => {
    await using stream = await SseClient.open(`${feed.http}/feed?since=nonsense`);
    await stream.until(() => stream.frames.length > 0);
    expect(stream.frames[0]).toEqual({ type: "resync", reason: "position-unknown" });
    expect(stream.events[0]!.id).toBeUndefined();
  });

  test("a WebSocket upgrade at /feed is the same feed as at /", async () => {
    const socket = await FeedClient.connect(`${feed.ws}feed`);
    const { id } = await post(feed, "over the WebSocket at /feed");
    await socket.untilInserts(1);
    expect(postIds(socket.inserts)).toEqual([id]);
    socket.close();
  });
});

describe("resuming", () => {
  test("Last-Event-ID continues right after that event, and wins over since", async () => {
    await using first = await SseClient.open(`${feed.http}/feed`);
    const a = await post(feed, "a");
    await first.until(() => postIds(first.inserts).includes(a.id));
    const resumeAt = first.lastEventId!;
    const b = await post(feed, "b");
    const c = await post(feed, "c");
    await first.until(() => postIds(first.inserts).includes(c.id));
    await first[Symbol.asyncDispose]();

    // EventSource keeps its URL (here an old since) and adds Last-Event-ID on its own reconnect.
    await using resumed = await SseClient.open(`${feed.http}/feed?since=${resumeAt}`, { "Last-Event-ID": first.events.at(-2)!.id! });
    await resumed.untilInserts(1);
    expect(postIds(resumed.inserts)).toEqual([c.id]);
    await using fromSince = await SseClient.open(`${feed.http}/feed?since=${resumeAt}`);
    await fromSince.untilInserts(2);
    expect(postIds(fromSince.inserts)).toEqual([b.id, c.id]);
  });

  test("a reader that reconnects with Last-Event-ID on another instance misses nothing and repeats nothing", async () => {
    const uri = mongo.uri(uniqueDatabase("sse_move"));
    await using a = await startTestFeed(uri);
    await using b = await startTestFeed(uri);
    await using driver = await connectDriver(uri);
    const first = await SseClient.open(`${a.http}/feed`);
    await first.until(() => first.retry !== undefined); // subscribed before the first post
    const writer = new PostWriter(driver.db().collection("posts"), 300);
    const hops = [
      { after: 50, url: `${b.http}/feed` },
      { after: 80, url: `${a.http}/feed` },
      { after: 90, url: `${b.http}/feed` },
    ];
    const { received, committed } = await followSseWithReconnects(first, hops, writer.done);
    expect(received).toEqual(committed);
  }, 60_000);
});

describe("limits and ends", () => {
  test("counts against the same per-address cap as WebSockets: past it, 429 before any stream", async () => {
    await using capped = await startTestFeed(mongo.uri(uniqueDatabase("sse_caps")), { WS_MAX_CONNECTIONS_PER_IP: "2" });
    const socket = await FeedClient.connect(capped.ws);
    await using stream = await SseClient.open(`${capped.http}/feed`);
    expect(stream.response.status).toBe(200);
    const refused = await fetch(`${capped.http}/feed`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
    const refusedSocket = await rawRequest(
      capped.http,
      "GET / HTTP/1.1\r\nHost: feed.localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    expect(refusedSocket.status).toBe(429);
    // Ending the stream gives its slot back.
    const closed = capped.observed.next("event-stream-closed");
    stream.close();
    await closed;
    await using again = await SseClient.open(`${capped.http}/feed`);
    expect(again.response.status).toBe(200);
    socket.close();
  });

  test("a comment line every SSE_HEARTBEAT_SECONDS keeps a quiet stream open", async () => {
    await using beating = await startTestFeed(mongo.uri(uniqueDatabase("sse_beat")), { SSE_HEARTBEAT_SECONDS: "1" });
    await using stream = await SseClient.open(`${beating.http}/feed`);
    await stream.until(() => stream.comments.length >= 2, 5_000, "a heartbeat after the preamble");
    expect(stream.comments).toEqual(["mongo-feed", ""]);
  });

  test("a quiet stream outlives Bun's 10 s idle timeout: the heartbeat after 11 s arrives on the same stream", async () => {
    await using quiet = await startTestFeed(mongo.uri(uniqueDatabase("sse_quiet")), { SSE_HEARTBEAT_SECONDS: "11" });
    await using stream = await SseClient.open(`${quiet.http}/feed`);
    await stream.until(() => stream.comments.length >= 2, 20_000, "the heartbeat after 11 s");
    expect(quiet.observed.of("event-stream-closed")).toEqual([]);
  }, 30_000);

  test("a shutdown ends every stream with a 1001 close frame", async () => {
    const closing = await startTestFeed(mongo.uri(uniqueDatabase("sse_bye")));
    const stream = await SseClient.open(`${closing.http}/feed`);
    await stream.until(() => stream.retry !== undefined);
    await closing.close();
    await stream.ended;
    expect(stream.frames.at(-1)).toEqual({ type: "close", code: 1001, reason: "server shutting down" });
  });

  test("a reader that stops reading is ended like a slow WebSocket (1013), and the others get everything", async () => {
    await using small = await startTestFeed(mongo.uri(uniqueDatabase("sse_slow")), { WS_SEND_BUFFER_LIMIT: String(64 * 1024) });
    await using healthy = await SseClient.open(`${small.http}/feed`);
    const { hostname, port } = new URL(small.http);
    const opened = small.observed.next("event-stream-opened");
    // A raw connection that sends its request, reads the first bytes and then nothing more.
    const stalled = net.connect(Number(port), hostname);
    stalled.once("data", () => stalled.pause());
    stalled.write(`GET /feed HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
    await opened;
    const cut = small.observed.next("event-stream-closed", (closed) => closed.code === 1013, 60_000);
    const content = "x".repeat(8_000);
    const ids: string[] = [];
    let ended = false;
    void cut.then(() => (ended = true));
    for (let batch = 0; batch < 40 && !ended; batch++) {
      const results = await Promise.all(Array.from({ length: 25 }, (_, n) => post(small, `${batch}.${n} ${content}`)));
      ids.push(...results.map((result) => result.id));
    }
    await cut;
    await healthy.untilInserts(ids.length, 30_000);
    // Each batch's posts commit in any order: every one arrives, once.
    expect(postIds(healthy.inserts).sort()).toEqual(ids.sort());
    expect(small.observed.of("event-stream-closed").filter((closed) => closed.code === 1013)).toHaveLength(1); // the stalled one only
    stalled.destroy();
  }, 90_000);
});

test("stalled event streams count against the send budget shared with WebSockets: past it, the heaviest are relieved", async () => {
  await using tight = await startTestFeed(mongo.uri(uniqueDatabase("sse_budget")), {
    WS_SEND_BUFFER_LIMIT: String(1024 * 1024),
    WS_SEND_BUFFER_TOTAL: String(1024 * 1024),
  });
  const { hostname, port } = new URL(tight.http);
  const stalled = [0, 1, 2].map(() => {
    const socket = net.connect(Number(port), hostname);
    socket.once("data", () => socket.pause());
    socket.write(`GET /feed HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
    return socket;
  });
  await tight.observed.waitFor("event-stream-opened", (opened) => opened.streams === 3);
  const exceeded = tight.observed.next("send-budget-exceeded", () => true, 60_000);
  let relieved = false;
  void exceeded.then(() => (relieved = true));
  const content = "x".repeat(8_000);
  // Small batches (40 KB per stream each): the streams' sum passes the budget many sweeps before any one
  // stream reaches its own limit, whatever size of batch the change stream hands over.
  for (let batch = 0; batch < 400 && !relieved; batch++) {
    await Promise.all(Array.from({ length: 5 }, (_, n) => post(tight, `${batch}.${n} ${content}`)));
  }
  const relief = await exceeded;
  expect(relief.closed + relief.dropped).toBeGreaterThan(0);
  expect(relief.budget).toBe(1024 * 1024);
  await tight.observed.waitFor("event-stream-closed", (closed) => closed.code === 1013 || closed.code === undefined);
  for (const socket of stalled) socket.destroy();
}, 90_000);

test("a SIGTERM with a stalled reader holding a long queue still shuts down in order, within the deadline", async () => {
  const uri = mongo.uri(uniqueDatabase("sse_term"));
  // A limit far above what will be queued: the stalled stream is still open when the signal comes.
  await using server = ServerProcess.spawn({ MONGODB_URI: uri, WS_SEND_BUFFER_LIMIT: String(256 * 1024 * 1024) });
  const { http } = await server.listening();
  const { hostname, port } = new URL(http);
  const stalled = net.connect(Number(port), hostname);
  stalled.once("data", () => stalled.pause());
  stalled.write(`GET /feed HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
  await using driver = await connectDriver(uri);
  await using reader = await SseClient.open(`${http}/feed`);
  // About 16 MB: far past what the kernel and Bun take from a reader that reads nothing.
  const content = "x".repeat(8_000);
  for (let batch = 0; batch < 20; batch++) {
    await driver
      .db()
      .collection("posts")
      .insertMany(Array.from({ length: 100 }, (_, n) => ({ author: "bulk", content: `${batch}.${n} ${content}`, createdAt: new Date() })));
  }
  await reader.untilInserts(2_000, 30_000);
  server.kill("SIGTERM");
  expect(await server.exited).toBe(0); // 1 would be the 5 s deadline's forced exit
  await reader.ended;
  expect(reader.frames.at(-1)).toEqual({ type: "close", code: 1001, reason: "server shutting down" });
  stalled.destroy();
}, 90_000);

describe("access", () => {
  const secret = randomSecret();
  let secured: TestFeed;
  beforeAll(async () => {
    secured = await startTestFeed(mongo.uri(uniqueDatabase("sse_auth")), { AUTH_JWT_SECRET: secret });
  });
  afterAll(() => secured?.close());

  test("without a token: 401 problem before any stream", async () => {
    const response = await fetch(`${secured.http}/feed`);
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.headers.get("www-authenticate")).toStartWith("Bearer");
  });

  test("with Authorization: Bearer, or access_token in the query (what EventSource can send)", async () => {
    const token = await signHs256(secret, claims());
    await using byHeader = await SseClient.open(`${secured.http}/feed`, { Authorization: `Bearer ${token}` });
    await using byQuery = await SseClient.open(`${secured.http}/feed?access_token=${token}`);
    expect(byHeader.response.status).toBe(200);
    expect(byQuery.response.status).toBe(200);
    const body = JSON.stringify({ content: "authenticated" });
    await fetch(`${secured.http}/posts`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body,
    });
    await byHeader.untilInserts(1);
    await byQuery.untilInserts(1);
    expect(JSON.stringify(secured.logs)).not.toContain(token);
  });

  test("a foreign Origin: 403 before any stream", async () => {
    const token = await signHs256(secret, claims());
    const response = await fetch(`${secured.http}/feed?access_token=${token}`, { headers: { Origin: "https://elsewhere.example" } });
    expect(response.status).toBe(403);
  });

  test("the token's expiry ends the stream with a 4001 close frame", async () => {
    const token = await signHs256(secret, claims({ exp: nowSeconds() + 2 }));
    await using stream = await SseClient.open(`${secured.http}/feed`, { Authorization: `Bearer ${token}` });
    expect(stream.response.status).toBe(200);
    await stream.ended;
    expect(stream.frames.at(-1)).toEqual({ type: "close", code: 4001, reason: "token expired" });
  });
});
