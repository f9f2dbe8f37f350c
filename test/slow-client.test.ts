// Defends: a client that stops reading is closed with 1013 after what was queued, and never slows the others or grows memory without bound.
import { expect, test } from "bun:test";
import { FeedClient } from "./support/feed-client.ts";
import { useMongo } from "./support/harness.ts";
import { inMiB, MEMORY_PER_QUEUED_BYTE, residentMemory, SERVING_MARGIN } from "./support/memory-bound.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { postIds } from "./support/post-writer.ts";
import { ServerProcess } from "./support/server-process.ts";
import { connectDriver } from "./support/test-feed.ts";

const mongo = useMongo();

const HEALTHY = 20;
const POSTS = 2_000;
const CONTENT_LENGTH = 8_000;
/** Posts per insert: 20 × 8 KB stays below the 256 KiB send limit a healthy client may hold. */
const BATCH = 20;

test("a stalled client is closed with 1013 while 20 healthy clients receive everything, in bounded memory", async () => {
  const uri = mongo.uri(uniqueDatabase("slow"));
  await using driver = await connectDriver(uri);
  await using server = ServerProcess.spawn({ MONGODB_URI: uri, WS_SEND_BUFFER_LIMIT: String(256 * 1024) });
  const { ws } = await server.listening();
  const limits = await server.waitForEvent("limits");
  const healthy = await Promise.all(Array.from({ length: HEALTHY }, () => FeedClient.connect(ws)));

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

  // The stated bound on the server's resident memory while a client is stuck and the others keep
  // up: what it used with every socket open (measured here, as it depends on the runtime and the
  // machine), plus what the configured limits let the send queues hold (each socket's limit, all
  // within the total), plus serving the posts, whose history keeps every frame for replay (about
  // the bytes written, counted twice for the documents they were made from).
  const baseline = (await residentMemory(server.process.pid)).resident;
  const queued = Math.min(Number(limits.sendBufferTotal), (HEALTHY + 1) * Number(limits.sendBufferLimit));
  const bound = baseline + MEMORY_PER_QUEUED_BYTE * queued + SERVING_MARGIN + 2 * POSTS * CONTENT_LENGTH;
  try {
    // About 16 MB per client: far past the socket buffers of the kernel and the 256 KiB limit.
    const posts = driver.db().collection("posts");
    const content = "x".repeat(CONTENT_LENGTH);
    const ids: string[] = [];
    // In batches smaller than the limit, each one read by the healthy clients before the next: a healthy
    // client is one that keeps up, even on a loaded machine where this process reads late.
    for (let batch = 0; batch < POSTS / BATCH; batch++) {
      const documents = Array.from({ length: BATCH }, (_, n) => ({
        author: "bulk",
        content: `${batch}.${n} ${content}`,
        createdAt: new Date(),
      }));
      const { insertedIds } = await posts.insertMany(documents);
      ids.push(...Object.values(insertedIds).map((id) => id.toHexString()));
      await Promise.all(healthy.map((client) => client.untilInserts(ids.length, 60_000)));
    }
    await Promise.all(healthy.map((client) => client.untilInserts(ids.length, 60_000)));
    for (const client of healthy) expect(postIds(client.frames)).toEqual(ids);

    const closedLine = await server.waitForEvent("slow-client-closed", undefined, 20_000);
    expect(Number(closedLine.limit)).toBe(256 * 1024);
    const { resident } = await residentMemory(server.process.pid);
    console.log(
      `server resident memory with a stalled client: ${inMiB(resident)} (bound ${inMiB(bound)}: ${inMiB(baseline)} at the start, ` +
        `queues ${inMiB(MEMORY_PER_QUEUED_BYTE * queued)}, serving ${inMiB(bound - baseline - MEMORY_PER_QUEUED_BYTE * queued)})`,
    );
    expect(resident).toBeLessThan(bound);
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
