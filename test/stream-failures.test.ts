// Defends: when the change stream fails, readiness says so, it restarts with backoff, and clients either miss nothing or are told to resync.
import { expect, test } from "bun:test";
import { failPoint } from "./support/fail-point.ts";
import { FeedClient } from "./support/feed-client.ts";
import { startEmulator } from "mongo-emulator";
import { useMongo } from "./support/harness.ts";
import { uniqueDatabase, withDatabase } from "./support/mongo-target.ts";
import { postIds } from "./support/post-writer.ts";
import { holdStreamDown } from "./support/stream-down.ts";
import { connectDriver, postJson, startTestFeed, type TestFeed } from "./support/test-feed.ts";

const mongo = useMongo();

const nextEstablished = (feed: TestFeed) => feed.observed.next("stream-up", undefined, 30_000);

test("readiness answers 503 while the change stream is down, and the posts written meanwhile still arrive", async () => {
  const uri = mongo.uri(uniqueDatabase("ready"));
  await using feed = await startTestFeed(uri);
  await using driver = await connectDriver(uri);
  const client = await FeedClient.connect(feed.ws);
  expect((await fetch(`${feed.http}/health/ready`)).status).toBe(200);

  const recovered = await (async () => {
    await using _down = await holdStreamDown(uri, feed);
    const ready = await fetch(`${feed.http}/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get("retry-after")).toBe("1");
    const problem = (await ready.json()) as Record<string, unknown>;
    // A reason code for the public, never the driver's error (it names hosts and ports): that goes to the log.
    expect(problem).toMatchObject({
      status: 503,
      // (no-primary on a set of several members: the closed connections make the driver forget the primary for a
      // moment while the other members still answer)
      reason: expect.stringMatching(/^(mongodb-unreachable|no-primary|change-stream-down|change-stream-stalled)$/),
    });
    expect(JSON.stringify(problem)).not.toMatch(/127\.0\.0\.1|:\d{4,5}\b/);
    // Writes go on while the stream is down (the feed's reads fail, the writes do not).
    const { insertedIds } = await driver
      .db()
      .collection("posts")
      .insertMany([1, 2, 3].map((n) => ({ author: "w", content: `while down ${n}`, createdAt: new Date() })));
    return { ids: Object.values(insertedIds).map((id) => id.toHexString()), established: nextEstablished(feed) };
  })();
  await recovered.established;
  expect((await fetch(`${feed.http}/health/ready`)).status).toBe(200);
  await client.untilInserts(3, 30_000);
  expect(postIds(client.frames)).toEqual(recovered.ids);
  client.close();
}, 60_000);

test("when MongoDB can no longer resume the stream (history lost), clients are told to resync and the feed goes on", async () => {
  // A real deployment loses change-stream history only when its oplog rolls over; the emulator's
  // history limit makes that happen on demand, so this test always uses its own emulator.
  await using emulator = await startEmulator({ historyLimit: 20 });
  const uri = withDatabase(emulator.uri, "lost");
  await using feed = await startTestFeed(uri);
  await using driver = await connectDriver(uri);
  const client = await FeedClient.connect(feed.ws);
  expect((await postJson(feed.http, { author: "a", content: "before" })).status).toBe(201);
  await client.untilInserts(1);

  const established = await (async () => {
    await using _down = await holdStreamDown(uri, feed);
    const posts = driver.db().collection("posts");
    for (let n = 0; n < 40; n++) await posts.insertOne({ author: "w", content: `lost ${n}`, createdAt: new Date() });
    return nextEstablished(feed);
  })();
  await client.until((frames) => frames.some((frame) => frame.type === "resync"), 30_000, "a resync frame");
  await established;
  expect(client.frames.find((frame) => frame.type === "resync")).toEqual({ type: "resync", reason: "history-lost" });
  expect(feed.observed.of("stream-resync").map((event) => event.reason)).toEqual(["history-lost"]);
  expect(feed.logs.find((line) => line.event === "stream-resync")?.level).toBe("error");

  const after = (await (await postJson(feed.http, { author: "a", content: "after" })).json()) as { id: string };
  await client.until((frames) => postIds(frames).includes(after.id), 15_000, "the post after the resync");
  // A position from before the loss is no longer replayable.
  const old = await FeedClient.connect(`${feed.ws}?since=${client.inserts[0]!.position}`);
  await old.until((frames) => frames.length > 0);
  expect(old.frames[0]).toEqual({ type: "resync", reason: "position-expired" });
  client.close();
  old.close();
}, 60_000);

test("dropping the posts collection tells clients to resync, and new posts keep flowing", async () => {
  const uri = mongo.uri(uniqueDatabase("dropped"));
  await using feed = await startTestFeed(uri);
  await using driver = await connectDriver(uri);
  const client = await FeedClient.connect(feed.ws);
  expect((await postJson(feed.http, { author: "a", content: "doomed" })).status).toBe(201);
  await client.untilInserts(1);

  await driver.db().collection("posts").drop();
  await client.until((frames) => frames.some((frame) => frame.type === "resync"), 15_000, "a resync frame");
  expect(client.frames[1]).toEqual({ type: "resync", reason: "collection-invalidated" });

  const reborn = (await (await postJson(feed.http, { author: "a", content: "after the drop" })).json()) as { id: string };
  await client.untilInserts(2);
  expect(postIds(client.frames).at(-1)).toBe(reborn.id);
  expect(client.frames.length).toBe(3);
  client.close();
}, 30_000);

test("while getMore keeps failing, restarts back off exponentially instead of hammering MongoDB", async () => {
  const uri = mongo.uri(uniqueDatabase("backoff"));
  await using feed = await startTestFeed(uri);
  await using driver = await connectDriver(uri);
  const restarts = () => feed.observed.of("stream-down");
  const recovered = await (async () => {
    await using _failing = await failPoint(driver, {
      mode: "alwaysOn",
      data: { failCommands: ["getMore"], errorCode: 2, errorLabels: [], appName: "mongo-feed" },
    });
    await feed.observed.waitFor("stream-down", () => restarts().length >= 4, 20_000);
    return nextEstablished(feed);
  })();
  const [first, second, third, fourth] = restarts();
  expect([first!.attempt, second!.attempt, third!.attempt, fourth!.attempt]).toEqual([1, 2, 3, 4]);
  // Each delay lies in [ceiling/2, ceiling] with the ceiling doubling from 100 ms.
  expect(fourth!.delayMs).toBeGreaterThanOrEqual(400);
  expect(fourth!.delayMs).toBeGreaterThan(first!.delayMs);
  await recovered;
}, 40_000);
