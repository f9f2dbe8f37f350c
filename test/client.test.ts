// Defends: the typed client's view always ends equal to GET /posts, through restarts (SIGTERM, SIGKILL), 1013 closes, resyncs and history loss, with no duplicate and no gap; and it keeps a token fresh on a live socket.
import { expect, test } from "bun:test";
import { type Feed, openFeed } from "../src/client/index.ts";
import { listAll } from "./support/feed-view.ts";
import { startEmulator } from "mongo-emulator";
import { useMongo } from "./support/harness.ts";
import { uniqueDatabase, withDatabase } from "./support/mongo-target.ts";
import { PostWriter } from "./support/post-writer.ts";
import { ServerProcess } from "./support/server-process.ts";
import { holdStreamDown } from "./support/stream-down.ts";
import { TcpProxy } from "./support/tcp-proxy.ts";
import { connectDriver, postJson, startTestFeed } from "./support/test-feed.ts";
import { watch } from "./support/watch-feed.ts";
import { claims, nowSeconds, randomSecret, signHs256 } from "./support/tokens.ts";

const mongo = useMongo();
const quickBackoff = { baseMs: 20, capMs: 500 };

async function expectEqualToList(feed: Feed, http: string, query = "") {
  const { view } = await listAll(http, query);
  expect(new Map(feed.posts)).toEqual(view);
}

test("snapshot then stream: the view follows inserts, edits and deletes from anywhere, and the iterator yields them", async () => {
  const uri = mongo.uri(uniqueDatabase("client"));
  await using server = await startTestFeed(uri);
  await using driver = await connectDriver(uri);
  const early = (await (await postJson(server.http, { author: "ada", content: "before the client" })).json()) as { id: string };
  const feed = openFeed({ url: server.http, backoff: quickBackoff });
  const seen = watch(feed);
  await seen.until(() => feed.state === "live", "live");
  expect(seen.items[0]).toMatchObject({ type: "reset", posts: [expect.objectContaining({ id: early.id })] });

  const { insertedId } = await driver.db().collection("posts").insertOne({ author: "shell", content: "driver", createdAt: new Date() });
  await fetch(`${server.http}/posts/${early.id}`, {
    method: "PATCH",
    headers: { "Content-Type": "application/json" },
    body: '{"content":"edited"}',
  });
  await fetch(`${server.http}/posts/${insertedId.toHexString()}`, { method: "DELETE" });
  await seen.until(() => seen.items.some((item) => item.type === "delete"), "the delete");
  expect(seen.items.map((item) => item.type)).toEqual(["reset", "insert", "update", "delete"]);
  expect(feed.newestFirst()).toEqual([expect.objectContaining({ id: early.id, content: "edited" })]);
  await expectEqualToList(feed, server.http);

  const iterated: string[] = [];
  const iteration = (async () => {
    for await (const item of feed) iterated.push(item.type);
  })();
  feed.close();
  await iteration;
  expect(iterated).toEqual(["reset", "insert", "update", "delete"]);
  expect(feed.state).toBe("closed");
});

test("a filtered client keeps exactly its part", async () => {
  const uri = mongo.uri(uniqueDatabase("client_filter"));
  await using server = await startTestFeed(uri);
  const feed = openFeed({ url: server.http, filter: { author: ["ada"] }, backoff: quickBackoff });
  const seen = watch(feed);
  await seen.until(() => feed.state === "live", "live");
  await postJson(server.http, { author: "bob", content: "not mine" });
  const mine = (await (await postJson(server.http, { author: "ada", content: "mine" })).json()) as { id: string };
  await seen.until(() => seen.has(mine.id), "ada's post");
  await expectEqualToList(feed, server.http, "author=ada");
  feed.close();
});

for (const signal of ["SIGTERM", "SIGKILL"] as const) {
  test(`through a server restart after ${signal}, the view catches up with nothing missing or doubled`, async () => {
    const uri = mongo.uri(uniqueDatabase(`client_${signal.toLowerCase()}`));
    await using driver = await connectDriver(uri);
    let server = ServerProcess.spawn({ MONGODB_URI: uri });
    const first = new URL((await server.listening()).http);
    using proxy = new TcpProxy({ hostname: first.hostname, port: Number(first.port) });
    const feed = openFeed({ url: `http://127.0.0.1:${proxy.port}`, backoff: quickBackoff });
    const seen = watch(feed);
    await seen.until(() => feed.state === "live", "live");
    const writer = new PostWriter(driver.db().collection("posts"), 300);
    await writer.written(100);
    server.kill(signal);
    await server.exited;
    server = ServerProcess.spawn({ MONGODB_URI: uri });
    const next = new URL((await server.listening()).http);
    proxy.target = { hostname: next.hostname, port: Number(next.port) };
    const ids = await writer.done;
    await seen.until(() => ids.every(seen.has), "every post");
    expect(feed.reconnects).toBeGreaterThanOrEqual(1);
    expect(seen.states).toContain("backoff");
    expect(new Set(seen.positions()).size).toBe(seen.positions().length);
    expect(seen.items.filter((item) => item.type === "reset").length).toBe(1); // a restart needs no reload
    await expectEqualToList(feed, next.origin);
    feed.close();
    server.kill("SIGTERM");
    await server.exited;
  }, 60_000);
}

test("a 1013 close for a client that stopped reading: it reads what was queued, reconnects with since and catches up", async () => {
  const uri = mongo.uri(uniqueDatabase("client_slow"));
  await using server = await startTestFeed(uri, { WS_SEND_BUFFER_LIMIT: String(256 * 1024) });
  await using driver = await connectDriver(uri);
  const child = Bun.spawn(["bun", new URL("./support/client-fixture.ts", import.meta.url).pathname, server.http], {
    stdin: "pipe",
    stdout: "pipe",
  });
  const lines = (async function* () {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of child.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      for (let newline = buffered.indexOf("\n"); newline >= 0; newline = buffered.indexOf("\n")) {
        yield JSON.parse(buffered.slice(0, newline)) as {
          event: string;
          state?: string;
          posts?: { id: string }[];
          reconnects?: number;
          positions?: string[];
        };
        buffered = buffered.slice(newline + 1);
      }
    }
  })();
  const next = async (event: string, state?: string) => {
    for (;;) {
      const line = (await lines.next()).value!;
      if (line.event === event && (state === undefined || line.state === state)) return line;
    }
  };
  await next("state", "live");
  const closed = server.observed.next("slow-client-closed", undefined, 30_000);
  process.kill(child.pid, "SIGSTOP");
  try {
    const posts = driver.db().collection("posts");
    for (let batch = 0; batch < 10; batch++) {
      await posts.insertMany(
        Array.from({ length: 100 }, (_, n) => ({ author: "bulk", content: `${batch}.${n} ${"x".repeat(8_000)}`, createdAt: new Date() })),
      );
    }
    await closed;
  } finally {
    process.kill(child.pid, "SIGCONT");
  }
  const marker = (await (await postJson(server.http, { author: "ada", content: "after the 1013" })).json()) as { id: string };
  for (let line = await next("frame"); (line as { id?: string }).id !== marker.id; line = await next("frame"));
  const { view } = await listAll(server.http);
  child.stdin.write("view\n");
  child.stdin.flush();
  const final = await next("view");
  child.kill();
  expect(final.reconnects).toBeGreaterThanOrEqual(1);
  expect(new Set(final.positions).size).toBe(final.positions!.length);
  expect(new Map(final.posts!.map((post) => [post.id, post]))).toEqual(view);
}, 90_000);

test("after a resync (history lost), the client reloads, emits one reset and ends equal to GET /posts", async () => {
  // History is lost on demand only with the emulator's small history (see stream-failures.test.ts).
  await using emulator = await startEmulator({ historyLimit: 20 });
  const uri = withDatabase(emulator.uri, "client_lost");
  await using server = await startTestFeed(uri);
  await using driver = await connectDriver(uri);
  const feed = openFeed({ url: server.http, backoff: quickBackoff });
  const seen = watch(feed);
  await seen.until(() => feed.state === "live", "live");
  await (async () => {
    await using _down = await holdStreamDown(uri, server);
    for (let n = 0; n < 40; n++)
      await driver
        .db()
        .collection("posts")
        .insertOne({ author: "w", content: `lost ${n}`, createdAt: new Date() });
  })();
  await seen.until(() => seen.items.filter((item) => item.type === "reset").length === 2 && feed.state === "live", "the reload");
  const after = (await (await postJson(server.http, { author: "a", content: "after" })).json()) as { id: string };
  await seen.until(() => seen.has(after.id), "the post after the reload");
  await expectEqualToList(feed, server.http);
  feed.close();
}, 60_000);

test("a position that expired while the client was away: resync, reload, and nothing missing", async () => {
  const uri = mongo.uri(uniqueDatabase("client_expired"));
  await using server = await startTestFeed(uri, { FEED_HISTORY_SIZE: "3" });
  const origin = new URL(server.http);
  using proxy = new TcpProxy({ hostname: origin.hostname, port: Number(origin.port) });
  const feed = openFeed({ url: `http://127.0.0.1:${proxy.port}`, backoff: quickBackoff });
  const seen = watch(feed);
  await seen.until(() => feed.state === "live", "live");
  proxy.refusing = true;
  proxy.cut();
  await seen.until(() => feed.state === "backoff", "backoff");
  const ids: string[] = [];
  for (let n = 0; n < 10; n++)
    ids.push(((await (await postJson(server.http, { author: "ada", content: `away ${n}` })).json()) as { id: string }).id);
  proxy.refusing = false;
  await seen.until(() => ids.every(seen.has), "the posts written while away");
  expect(seen.items.filter((item) => item.type === "reset").length).toBe(2);
  await expectEqualToList(feed, server.http);
  feed.close();
});

test("a refusal (400 for a bad filter, 4400 on the socket) stops the client: no retry, state closed, the iteration ends", async () => {
  await using server = await startTestFeed(mongo.uri(uniqueDatabase("client_terminal")));
  const feed = openFeed({ url: server.http, filter: { id: ["not-an-id"] }, backoff: quickBackoff });
  const closes: { code: number; reason: string }[] = [];
  feed.on("closed", (close) => closes.push(close));
  const items: string[] = [];
  for await (const item of feed) items.push(item.type);
  expect(feed.state).toBe("closed");
  expect(closes).toEqual([{ code: 4400, reason: expect.stringContaining("id must be a post id") }]);
  expect(items).toEqual([]);
  expect(feed.reconnects).toBe(0);
});

test("with auth on, a token function keeps the socket open past each token's expiry by refreshing it in-band", async () => {
  const secret = randomSecret();
  await using server = await startTestFeed(mongo.uri(uniqueDatabase("client_auth")), { AUTH_JWT_SECRET: secret });
  // Tokens that live 4 s, refreshed 2.5 s before they expire: three refreshes outlive the first token.
  const token = () => signHs256(secret, claims({ sub: "user-ada", exp: nowSeconds() + 4 }));
  const feed = openFeed({ url: server.http, token, refreshBeforeMs: 2_500, backoff: quickBackoff });
  const seen = watch(feed);
  await seen.until(() => feed.state === "live", "live");
  await server.observed.waitFor("token-refreshed", () => server.observed.of("token-refreshed").length >= 3, 20_000);
  const response = await fetch(`${server.http}/posts`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${await token()}` },
    body: JSON.stringify({ content: "still connected" }),
  });
  const { id } = (await response.json()) as { id: string };
  await seen.until(() => seen.has(id), "the post");
  expect(feed.reconnects).toBe(0);
  expect(server.observed.of("socket-closed")).toEqual([]);
  feed.close();
}, 30_000);
