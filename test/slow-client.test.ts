// Defends: a client that stops reading is closed with 1013 after what was queued, and never slows the others or grows memory without bound.
import { expect, test } from "bun:test";
import { FeedClient } from "./support/feed-client.ts";
import { uniqueDatabase, useMongoTarget } from "./support/mongo-target.ts";
import { postIds } from "./support/post-writer.ts";
import { ServerProcess } from "./support/server-process.ts";
import { connectDriver } from "./support/test-feed.ts";

const mongo = useMongoTarget();

/** The stated bound: the server's resident memory while a client is stuck and 20 others keep up. */
const SERVER_MEMORY_BOUND = 256 * 1024 * 1024;

test("a stalled client is closed with 1013 while 20 healthy clients receive everything, in bounded memory", async () => {
  const uri = mongo.uri(uniqueDatabase("slow"));
  await using driver = await connectDriver(uri);
  await using server = ServerProcess.spawn({ MONGODB_URI: uri, WS_SEND_BUFFER_LIMIT: String(256 * 1024) });
  const { ws } = await server.listening();
  const healthy = await Promise.all(Array.from({ length: 20 }, () => FeedClient.connect(ws)));

  const stalled = Bun.spawn(["bun", new URL("./support/stalled-client-fixture.ts", import.meta.url).pathname, ws], { stdout: "pipe" });
  const lines = (async function* () {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of stalled.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      for (let newline = buffered.indexOf("\n"); newline >= 0; newline = buffered.indexOf("\n")) {
        yield JSON.parse(buffered.slice(0, newline)) as { event: string; code?: number; reason?: string; positions?: string[] };
        buffered = buffered.slice(newline + 1);
      }
    }
  })();
  expect((await lines.next()).value).toEqual({ event: "open" });
  process.kill(stalled.pid, "SIGSTOP");

  try {
    // About 16 MB per client: far past the socket buffers of the kernel and the 256 KiB limit.
    const posts = driver.db().collection("posts");
    const content = "x".repeat(8_000);
    const ids: string[] = [];
    for (let batch = 0; batch < 20; batch++) {
      const documents = Array.from({ length: 100 }, (_, n) => ({
        author: "bulk",
        content: `${batch}.${n} ${content}`,
        createdAt: new Date(),
      }));
      const { insertedIds } = await posts.insertMany(documents);
      ids.push(...Object.values(insertedIds).map((id) => id.toHexString()));
    }
    await Promise.all(healthy.map((client) => client.untilInserts(ids.length, 60_000)));
    for (const client of healthy) expect(postIds(client.frames)).toEqual(ids);

    const closedLine = await server.waitForEvent("slow-client-closed", undefined, 20_000);
    expect(Number(closedLine.limit)).toBe(256 * 1024);
    const resident = await server.residentBytes();
    console.log(
      `server resident memory with a stalled client: ${(resident / 1024 / 1024).toFixed(0)} MiB (bound ${SERVER_MEMORY_BOUND / 1024 / 1024} MiB)`,
    );
    expect(resident).toBeLessThan(SERVER_MEMORY_BOUND);
  } finally {
    process.kill(stalled.pid, "SIGCONT");
  }

  // Once it reads again it gets what was queued, in order and without gaps, then the close frame.
  const closed = (await lines.next()).value!;
  expect(closed).toMatchObject({ event: "close", code: 1013, reason: "send buffer limit exceeded; reconnect with since" });
  const everyPosition = healthy[0]!.inserts.map((frame) => frame.position);
  expect(closed.positions!.length).toBeGreaterThan(0);
  expect(closed.positions).toEqual(everyPosition.slice(0, closed.positions!.length));
  for (const client of healthy) client.close();
}, 120_000);
