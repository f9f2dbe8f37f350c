// Defends issue 19: a replay (`since`) streams as the socket drains instead of being queued whole.
// A replay far larger than WS_SEND_BUFFER_LIMIT arrives complete on one connection, followed by
// the live posts in order; sockets that ask for the whole history and never read hold a bounded
// window each, and readiness stays ready (slow clients are not MongoDB's fault).
import { expect, test } from "bun:test";
import { FeedClient } from "./support/feed-client.ts";
import { useMongo } from "./support/harness.ts";
import { residentMemory } from "./support/memory-bound.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { postIds } from "./support/post-writer.ts";
import { ServerProcess } from "./support/server-process.ts";
import { connectDriver } from "./support/test-feed.ts";

const mongo = useMongo();
const MiB = 2 ** 20;

/** Inserts `count` posts of about 10 KB each, in batches, and returns their ids in order. */
async function seed(uri: string, count: number): Promise<string[]> {
  await using driver = await connectDriver(uri);
  const posts = driver.db().collection("posts");
  const ids: string[] = [];
  for (let first = 0; first < count; first += 100) {
    const documents = Array.from({ length: Math.min(100, count - first) }, (_, n) => ({
      author: "bulk",
      content: `${first + n} ${"x".repeat(9_990)}`,
      createdAt: new Date(),
    }));
    const { insertedIds } = await posts.insertMany(documents);
    ids.push(...Object.values(insertedIds).map((id) => id.toHexString()));
  }
  return ids;
}

/** The position before any post: the snapshot of an empty GET /posts. */
async function startPosition(http: string): Promise<string> {
  return ((await (await fetch(`${http}/posts`)).json()) as { position: string }).position;
}

test("a 10 MB replay (40 times WS_SEND_BUFFER_LIMIT, more than the kernel buffers) arrives whole on one connection, then live posts", async () => {
  const uri = mongo.uri(uniqueDatabase("replay_stream"));
  await using server = ServerProcess.spawn({ MONGODB_URI: uri, WS_SEND_BUFFER_LIMIT: String(256 * 1024) });
  const { http, ws } = await server.listening();
  const since = await startPosition(http);
  const watcher = await FeedClient.connect(ws);
  const ids = await seed(uri, 1_000);
  await watcher.untilInserts(ids.length, 60_000);

  const replayed = await FeedClient.connect(`${ws}?since=${encodeURIComponent(since)}`);
  await replayed.untilInserts(ids.length, 60_000);
  expect(postIds(replayed.frames)).toEqual(ids);
  const live = await seed(uri, 1);
  await replayed.untilInserts(ids.length + 1, 30_000);
  expect(postIds(replayed.frames)).toEqual([...ids, ...live]);
  expect(replayed.socket.readyState).toBe(WebSocket.OPEN);
  watcher.close();
  replayed.close();
}, 120_000);

// The kernel takes a few MB of each socket's replay whatever the server does (its send buffer);
// past that, queued whole, each socket would hold up to its 1 MiB limit (twice that in memory).
test("50 sockets asking for a 10 MB replay and never reading hold a bounded window each, and readiness stays ready", async () => {
  const uri = mongo.uri(uniqueDatabase("replay_stalled"));
  await using server = ServerProcess.spawn({ MONGODB_URI: uri });
  const { http, ws } = await server.listening();
  const since = await startPosition(http);
  const watcher = await FeedClient.connect(ws);
  const ids = await seed(uri, 1_000);
  await watcher.untilInserts(ids.length, 60_000);
  const before = (await residentMemory(server.process.pid)).resident;

  const crowd = Bun.spawn(
    ["bun", new URL("./support/stalled-readers-fixture.ts", import.meta.url).pathname, `${ws}?since=${encodeURIComponent(since)}`, "50"],
    { stdout: "pipe" },
  );
  try {
    const lines = crowd.stdout.pipeThrough(new TextDecoderStream()).getReader();
    for (let output = ""; !output.includes('"event":"open"'); ) output += (await lines.read()).value ?? "";
    process.kill(crowd.pid, "SIGSTOP");
    // Every one has its first window; a post now reaches the reader only after the server's turn for all of them.
    const live = await seed(uri, 1);
    await watcher.untilInserts(ids.length + 1, 30_000);
    expect(postIds(watcher.frames).at(-1)).toBe(live[0]);
    const ready = await fetch(`${http}/health/ready`);
    expect(ready.status).toBe(200);
    const grew = (await residentMemory(server.process.pid)).resident - before;
    console.log(`50 non-reading replays of 10 MB: resident memory grew ${(grew / MiB).toFixed(0)} MiB`);
    expect(grew).toBeLessThan(16 * MiB);
    expect(server.logs.filter((line) => line.event === "readiness-changed")).toEqual([]);
    expect(server.logs.filter((line) => line.event === "slow-client-closed")).toEqual([]);
  } finally {
    crowd.kill("SIGKILL");
    watcher.close();
  }
}, 120_000);
