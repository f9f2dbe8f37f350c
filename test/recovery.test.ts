// Defends: a client that reconnects with since, or streams from a snapshot, misses nothing and sees nothing twice.
import { expect, test } from "bun:test";
import { FeedClient } from "./support/feed-client.ts";
import { followWithReconnects } from "./support/follow-feed.ts";
import { useMongo } from "./support/harness.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { PostWriter, postIds } from "./support/post-writer.ts";
import { connectDriver, postJson, startTestFeed } from "./support/test-feed.ts";

const mongo = useMongo();

async function post(http: string, content: string): Promise<string> {
  const response = await postJson(http, { author: "recovery", content });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

test("a client that reconnects with since gets exactly the posts it missed, then the live stream", async () => {
  await using feed = await startTestFeed(mongo.uri(uniqueDatabase("since")));
  const first = await FeedClient.connect(feed.ws);
  const seen = [await post(feed.http, "1"), await post(feed.http, "2"), await post(feed.http, "3")];
  await first.untilInserts(3);
  first.close();
  await first.closed;

  const missed = [await post(feed.http, "4"), await post(feed.http, "5")];
  const again = await FeedClient.connect(`${feed.ws}?since=${first.lastPosition}`);
  await again.untilInserts(2);
  const live = await post(feed.http, "6");
  await again.untilInserts(3);
  expect(postIds(first.frames)).toEqual(seen);
  expect(postIds(again.frames)).toEqual([...missed, live]);
  expect(again.frames.length).toBe(3);
  again.close();
});

test("reconnecting with since while posts keep arriving has no gap and no duplicate at the hand-over", async () => {
  const uri = mongo.uri(uniqueDatabase("handover"));
  await using feed = await startTestFeed(uri);
  await using driver = await connectDriver(uri);
  const writer = new PostWriter(driver.db().collection("posts"), 600);
  // Hop from connection to connection mid-stream, each time resuming from the last frame seen.
  const hops = Array.from({ length: 12 }, (_, n) => ({ after: 7 * (n + 1), url: feed.ws }));
  const { received, committed } = await followWithReconnects(feed.ws, hops, writer.done);
  expect(received).toEqual(committed);
}, 60_000);

test("a since older than the history gets a resync frame, then the live stream", async () => {
  await using feed = await startTestFeed(mongo.uri(uniqueDatabase("expired")), { FEED_HISTORY_SIZE: "3" });
  const watcher = await FeedClient.connect(feed.ws);
  for (let n = 0; n < 6; n++) await post(feed.http, `n${n}`);
  await watcher.untilInserts(6);
  const six = postIds(watcher.frames);

  const late = await FeedClient.connect(`${feed.ws}?since=${watcher.inserts[0]!.position}`);
  await late.until((frames) => frames.length >= 1);
  expect(late.frames[0]).toEqual({ type: "resync", reason: "position-expired" });
  const live = await post(feed.http, "after the resync");
  await late.untilInserts(1);
  expect(postIds(late.frames)).toEqual([live]);

  // Within the history it still replays.
  const recent = await FeedClient.connect(`${feed.ws}?since=${watcher.inserts[3]!.position}`);
  await recent.untilInserts(3);
  expect(postIds(recent.frames)).toEqual([...six.slice(4), live]);
  for (const client of [watcher, late, recent]) client.close();
});

test("an unknown since gets a resync frame", async () => {
  await using feed = await startTestFeed(mongo.uri(uniqueDatabase("unknown")));
  for (const since of ["yesterday", "82", "not-hex-at-all-but-long-enough-to-look-like-a-token"]) {
    const client = await FeedClient.connect(`${feed.ws}?since=${encodeURIComponent(since)}`);
    await client.until((frames) => frames.length >= 1);
    expect(client.frames[0]).toEqual({ type: "resync", reason: "position-unknown" });
    client.close();
  }
});

test("snapshot then stream under concurrent writes has no gap and no duplicate", async () => {
  const uri = mongo.uri(uniqueDatabase("snapshot"));
  await using feed = await startTestFeed(uri);
  await using driver = await connectDriver(uri);
  const writer = new PostWriter(driver.db().collection("posts"), 500);

  const sessions: { snapshot: string[]; client: FeedClient }[] = [];
  for (const after of [20, 60, 120, 200, 300]) {
    await writer.written(after);
    // GET /posts then connect with its position, while the writer keeps going.
    const response = await fetch(`${feed.http}/posts?limit=100`);
    expect(response.status).toBe(200);
    const page = (await response.json()) as { posts: { id: string }[]; position: string };
    const client = await FeedClient.connect(`${feed.ws}?since=${page.position}`);
    sessions.push({ snapshot: page.posts.map((p) => p.id).reverse(), client });
  }
  const ids = await writer.done;
  for (const { snapshot, client } of sessions) {
    const newest = ids.indexOf(snapshot.at(-1)!);
    // The snapshot is exactly the newest posts committed before it...
    expect(snapshot).toEqual(ids.slice(Math.max(0, newest + 1 - 100), newest + 1));
    // ...and the stream from its position is exactly everything committed after it.
    await client.until(() => client.inserts.length >= ids.length - newest - 1, 20_000, "the posts after the snapshot");
    expect(postIds(client.frames)).toEqual(ids.slice(newest + 1));
    client.close();
  }
}, 60_000);

/** A position `secondsAhead` of this machine's clock, as an 18-hex snapshot position or a full event token. */
function futurePosition(secondsAhead: number, form: "snapshot" | "event"): string {
  const seconds = Math.floor(Date.now() / 1000) + secondsAhead;
  const time = `82${seconds.toString(16).toUpperCase().padStart(8, "0")}00000001`;
  return form === "snapshot" ? time : `${time}2B0204`;
}

test("a since from the future beyond the tolerance gets resync at once, in every encoding of a position", async () => {
  await using feed = await startTestFeed(mongo.uri(uniqueDatabase("future")));
  const positions = [
    futurePosition(3_600, "snapshot"), // an hour ahead
    futurePosition(86_400, "snapshot"), // a day ahead
    futurePosition(30, "snapshot"), // 30 s ahead: far past any clock skew
    futurePosition(3_600, "event"), // a full resume token an hour ahead
    "82FFFFFFFFFFFFFFFF", // the end of time, snapshot form
    "82FFFFFFFFFFFFFFFF2B0229296E04", // and as a full token
  ];
  for (const since of positions) {
    const started = performance.now();
    const client = await FeedClient.connect(`${feed.ws}?since=${since}`);
    await client.until((frames) => frames.length >= 1, 5_000, `a resync for ${since}`);
    expect(client.frames[0]).toEqual({ type: "resync", reason: "position-unknown" });
    // At once: no wait for the stream to reach a time it never will.
    expect(performance.now() - started).toBeLessThan(1_000);
    client.close();
  }
  expect((await fetch(`${feed.http}/health/ready`)).status).toBe(200);
});

test("a since a few seconds ahead, within the clock-skew tolerance, holds the handshake for the catch-up window at most", async () => {
  await using feed = await startTestFeed(mongo.uri(uniqueDatabase("ahead")));
  const started = performance.now();
  // 4 s ahead: plausible skew, but no write can give the deployment that cluster time within the 2 s window.
  const client = await FeedClient.connect(`${feed.ws}?since=${futurePosition(4, "snapshot")}`);
  const openedAfter = performance.now() - started;
  await client.until((frames) => frames.length >= 1, 5_000, "a resync");
  expect(client.frames[0]).toEqual({ type: "resync", reason: "position-unknown" });
  expect(openedAfter).toBeLessThan(3_000);
  client.close();
});
