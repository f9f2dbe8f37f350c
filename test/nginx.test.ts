// Defends issue 18 behind a real reverse proxy: Debian's nginx, configured from deploy/nginx.conf, in front of three instances on one database: both transports deliver each post well within a second (with nginx's default buffering too), typed clients over both lose and double nothing across an instance restart, and behind an nginx that drops the upgrade the client falls back to SSE by itself.
import { beforeAll, expect, test } from "bun:test";
import { type Feed, openFeed } from "../src/client/index.ts";
import { FeedClient } from "./support/feed-client.ts";
import { listAll } from "./support/feed-view.ts";
import { useMongo } from "./support/harness.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { ensureNginx, startNginx } from "./support/nginx.ts";
import { PostWriter } from "./support/post-writer.ts";
import { SseClient } from "./support/sse-client.ts";
import { connectDriver, postJson, startTestFeed, type TestFeed } from "./support/test-feed.ts";
import { watch } from "./support/watch-feed.ts";

const mongo = useMongo();
const quickBackoff = { baseMs: 20, capMs: 500 };
/** "Well within a second": every post, on either transport, through nginx. */
const DELIVERY_BOUND_MS = 500;

beforeAll(() => {
  ensureNginx();
}, 600_000);

/** Three instances on one database. */
async function startFleet(prefix: string): Promise<{ uri: string; instances: TestFeed[]; upstreams: string[] } & AsyncDisposable> {
  const uri = mongo.uri(uniqueDatabase(prefix));
  const instances = await Promise.all([0, 1, 2].map(() => startTestFeed(uri)));
  const upstreams = instances.map((instance) => new URL(instance.http).host);
  return { uri, instances, upstreams, [Symbol.asyncDispose]: async () => void (await Promise.all(instances.map((i) => i.close()))) };
}

test("through nginx with its default buffering, both transports deliver each post well within a second", async () => {
  await using fleet = await startFleet("nginx_latency");
  await using nginx = await startNginx(fleet.upstreams, "default-buffering");
  const socket = await FeedClient.connect(`${nginx.ws}/feed`);
  await using stream = await SseClient.open(`${nginx.url}/feed`);
  expect(stream.response.headers.get("content-type")).toBe("text/event-stream");
  await stream.until(() => stream.retry !== undefined);
  const delays = { websocket: [] as number[], sse: [] as number[] };
  for (let n = 1; n <= 10; n++) {
    const started = performance.now();
    const answer = await postJson(nginx.url, { author: "nginx", content: `post ${n}` });
    expect(answer.status).toBe(201);
    await Promise.all([
      socket.untilInserts(n).then(() => delays.websocket.push(performance.now() - started)),
      stream.untilInserts(n).then(() => delays.sse.push(performance.now() - started)),
    ]);
  }
  console.log(
    `through nginx, POST to frame: WebSocket max ${Math.max(...delays.websocket).toFixed(0)} ms, SSE max ${Math.max(...delays.sse).toFixed(0)} ms`,
  );
  expect(Math.max(...delays.websocket)).toBeLessThan(DELIVERY_BOUND_MS);
  expect(Math.max(...delays.sse)).toBeLessThan(DELIVERY_BOUND_MS);
  expect(stream.events.map((event) => event.data)).toEqual(socket.raw);
  socket.close();
}, 60_000);

test("typed clients over both transports, through nginx, miss nothing and double nothing across an instance restart", async () => {
  await using fleet = await startFleet("nginx_restart");
  await using nginx = await startNginx(fleet.upstreams);
  await using driver = await connectDriver(fleet.uri);
  // Two of each: nginx spreads them over the instances (round robin).
  const feeds: Feed[] = (["websocket", "sse", "websocket", "sse"] as const).map((transport) =>
    openFeed({ url: nginx.url, transport, backoff: quickBackoff }),
  );
  const seen = feeds.map(watch);
  await Promise.all(seen.map((client, n) => client.until(() => feeds[n]!.state === "live", "live")));

  const writer = new PostWriter(driver.db().collection("posts"), 300);
  await writer.written(100);
  const restarted = fleet.instances[0]!;
  const port = new URL(restarted.http).port;
  await restarted.close(); // its clients get 1001 and come back through nginx, to the others
  fleet.instances[0] = await startTestFeed(fleet.uri, { PORT: port }); // back at its address
  const ids = await writer.done;

  await Promise.all(seen.map((client) => client.until(() => ids.every(client.has), "every post")));
  const { view } = await listAll(nginx.url);
  for (const [n, feed] of feeds.entries()) {
    const positions = seen[n]!.positions();
    expect(new Set(positions).size).toBe(positions.length);
    expect(new Map(feed.posts)).toEqual(view);
    expect(feed.transport).toBe(n % 2 === 0 ? "websocket" : "sse");
    feed.close();
  }
  expect(feeds.reduce((sum, feed) => sum + feed.reconnects, 0)).toBeGreaterThanOrEqual(1);
}, 90_000);

test("behind an nginx that does not pass the upgrade, the client falls back to SSE by itself and its view equals GET /posts", async () => {
  await using fleet = await startFleet("nginx_no_upgrade");
  await using nginx = await startNginx(fleet.upstreams, "no-upgrade");
  await postJson(nginx.url, { author: "ada", content: "before" });
  const feed = openFeed({ url: nginx.url, backoff: quickBackoff });
  const seen = watch(feed);
  await seen.until(() => feed.state === "live", "live");
  expect(feed.transport).toBe("sse");
  const ids: string[] = [];
  for (let n = 0; n < 20; n++) {
    const answer = await postJson(nginx.url, { author: "bob", content: `through nginx ${n}` });
    ids.push(((await answer.json()) as { id: string }).id);
  }
  await seen.until(() => ids.every(seen.has), "every post");
  expect(new Map(feed.posts)).toEqual((await listAll(nginx.url)).view);
  feed.close();
}, 60_000);
