// Defends: clients that never read cannot inflate the server's memory: all send buffers together stay within WS_SEND_BUFFER_TOTAL, the heaviest are closed first, and readers that keep up lose nothing.
import { expect, test } from "bun:test";
import { FeedClient } from "./support/feed-client.ts";
import { useMongo } from "./support/harness.ts";
import { residentMemory, SERVING_MARGIN } from "./support/memory-bound.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { postIds } from "./support/post-writer.ts";
import { ServerProcess } from "./support/server-process.ts";
import { connectDriver } from "./support/test-feed.ts";

const mongo = useMongo();

const STALLED = 2_000;
const POSTS = 250;
const BUDGET = 64 * 1024 * 1024;
/**
 * The stated bound on the server's peak resident memory above what it used with every socket
 * open and idle (measured at the test's start: it depends on the runtime and the machine) is the
 * configured budget plus serving the 250 posts themselves (SERVING_MARGIN).
 */
const MARGIN = SERVING_MARGIN;

test(`${STALLED.toLocaleString("en")} stalled readers and ${POSTS} posts of 10,000 characters stay within the send-buffer budget`, async () => {
  const uri = mongo.uri(uniqueDatabase("budget"));
  await using server = ServerProcess.spawn({
    MONGODB_URI: uri,
    WS_SEND_BUFFER_TOTAL: String(BUDGET),
    WS_MAX_CONNECTIONS_PER_IP: String(STALLED + 100),
    WS_MAX_CONNECTIONS: String(STALLED + 100),
  });
  const { ws } = await server.listening();
  await using driver = await connectDriver(uri);
  const posts = driver.db().collection("posts");
  const reader = await FeedClient.connect(ws);

  const crowd = Bun.spawn(["bun", new URL("./support/stalled-readers-fixture.ts", import.meta.url).pathname, ws, String(STALLED)], {
    stdout: "pipe",
  });
  const lines = crowd.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  while (!output.includes('"event":"open"')) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`the stalled readers exited: ${output}`);
    output += value;
  }
  expect(JSON.parse(output.trim().split("\n").at(-1)!)).toEqual({ event: "open", count: STALLED });
  process.kill(crowd.pid, "SIGSTOP");

  try {
    const before = await residentMemory(server.process.pid);
    // In bursts, as a busy deployment commits them: each batch reaches the feed in one getMore,
    // and Bun copies a whole turn of published frames to every socket before any timer runs
    // (which is why the feed lets the event loop turn between events while the budget is pressed).
    const content = "x".repeat(9_990); // with its number, just under the 10,000 allowed
    const ids: string[] = [];
    for (let burst = 0; burst < POSTS / 50; burst++) {
      const documents = Array.from({ length: 50 }, (_, n) => ({
        author: "flood",
        content: `${burst * 50 + n} ${content}`,
        createdAt: new Date(),
      }));
      const { insertedIds } = await posts.insertMany(documents);
      ids.push(...Object.values(insertedIds).map((id) => id.toHexString()));
    }
    // The reader that keeps up holds nothing, so it is never the one closed: it gets every post.
    await reader.untilInserts(POSTS, 60_000);
    expect(postIds(reader.frames).sort()).toEqual([...ids].sort());
    expect(reader.socket.readyState).toBe(WebSocket.OPEN);

    const after = await residentMemory(server.process.pid);
    const grew = after.peak - before.resident;
    console.log(
      `${STALLED} stalled readers: resident ${(before.resident / 2 ** 20).toFixed(0)} MiB idle, peak ${(after.peak / 2 ** 20).toFixed(0)} MiB ` +
        `(+${(grew / 2 ** 20).toFixed(0)} MiB; budget ${BUDGET / 2 ** 20} MiB + margin ${MARGIN / 2 ** 20} MiB)`,
    );
    expect(grew).toBeLessThan(BUDGET + MARGIN);

    const relief = server.logs.filter((line) => line.event === "send-budget-exceeded");
    expect(relief.length).toBeGreaterThan(0);
    const closed = relief.reduce((sum, line) => sum + Number(line.closed), 0);
    const dropped = relief.reduce((sum, line) => sum + Number(line.dropped), 0);
    expect(closed).toBeGreaterThan(0); // the heaviest first get a close frame after their queue
    expect(closed + dropped).toBeLessThanOrEqual(STALLED);
    expect(relief[0]).toMatchObject({ level: "warn", budget: BUDGET });
  } finally {
    crowd.kill("SIGKILL");
  }
  reader.close();
}, 120_000);
