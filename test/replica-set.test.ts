// Defends, on a three-member replica set: FEED_READ_PREFERENCE puts the change stream on a secondary while
// writes and snapshots stay on the primary, and a snapshot still meets a lagging stream exactly; during an
// election a POST waits for the new primary and answers 201, readiness says "no primary" apart from
// "unreachable", and the metrics count the election. Its own emulator: a real set's members cannot be made
// to lag or to hold an election on cue by a test.
import { expect, test } from "bun:test";
import { MongoClient } from "mongodb";
import { type Member, startEmulator, withDatabase } from "mongo-emulator";
import { FeedClient } from "./support/feed-client.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { postIds } from "./support/post-writer.ts";
import { scrape, seriesValue } from "./support/prometheus-text.ts";
import { postJson, startTestFeed } from "./support/test-feed.ts";

type Snapshot = { posts: { id: string }[]; position: string };

const primaryOf = (members: Member[]): Member => {
  const primary = members.find((member) => member.isPrimary());
  if (!primary) throw new Error("the set has no primary");
  return primary;
};

async function stepDown(member: Member, stepDownSecs: number): Promise<void> {
  const client = await new MongoClient(member.uri, { appName: "feed-tests", serverSelectionTimeoutMS: 2_000 }).connect();
  try {
    await client.db("admin").command({ replSetStepDown: stepDownSecs, secondaryCatchUpPeriodSecs: 1 });
  } finally {
    await client.close(true);
  }
}

test("FEED_READ_PREFERENCE=secondary: the stream lags with its secondary, writes and snapshots do not, and a snapshot meets the stream exactly", async () => {
  const LAG_MS = 400;
  await using set = await startEmulator({ members: 3, replicationDelayMs: LAG_MS });
  const uri = withDatabase(set.uri, uniqueDatabase("rs_secondary"));
  await using feed = await startTestFeed(uri, { FEED_READ_PREFERENCE: "secondary" });
  const watcher = await FeedClient.connect(feed.ws);

  // The stream is a cursor on a secondary, none on the primary.
  const streamsOn = (member: Member) => member.server?.cursors.changeStreams ?? 0;
  expect(streamsOn(primaryOf(set.members))).toBe(0);
  expect(set.members.filter((member) => !member.isPrimary()).map(streamsOn)).toContain(1);

  // A write goes to the primary and reads back from it (GET /posts/:id) as soon as it is answered.
  const first = await postJson(feed.http, { author: "ada", content: "through the primary" });
  expect(first.status).toBe(201);
  const { id } = (await first.json()) as { id: string };
  expect((await fetch(`${feed.http}/posts/${id}`)).status).toBe(200);
  await watcher.until((frames) => postIds(frames).includes(id), 10_000, "the post through the secondary");

  // A snapshot taken on the primary is ahead of the lagging stream; connecting from its position still
  // gets exactly the posts after it, none of the snapshot's again, whatever is written meanwhile.
  const writes = Array.from({ length: 5 }, (_, n) => postJson(feed.http, { author: "ada", content: `before the snapshot ${n}` }));
  await Promise.all(writes);
  const snapshot = (await (await fetch(`${feed.http}/posts?limit=100`)).json()) as Snapshot;
  const follower = await FeedClient.connect(`${feed.ws}?since=${encodeURIComponent(snapshot.position)}`);
  const after: string[] = [];
  for (let n = 0; n < 5; n++) {
    const response = await postJson(feed.http, { author: "ada", content: `after the snapshot ${n}` });
    after.push(((await response.json()) as { id: string }).id);
  }
  await follower.until((frames) => postIds(frames).length >= after.length, 10_000, "the posts after the snapshot");
  expect(postIds(follower.frames)).toEqual(after);
  expect(snapshot.posts.map((post) => post.id)).not.toContain(after[0]);
  expect(follower.frames.some((frame) => frame.type === "resync")).toBe(false);
  watcher.close();
  follower.close();
}, 60_000);

// A crashed primary leaves a stream that reads from the primary waiting for the next one; a step-down does not
// (mongod keeps the stepped-down member's cursors, as since 4.2), and a stream on a secondary never waits.
const elections = [
  { readPreference: "primary", fault: "the primary crashes", streamWaits: true },
  { readPreference: "secondaryPreferred", fault: "the primary crashes", streamWaits: false },
  { readPreference: "primary", fault: "the primary steps down", streamWaits: false },
] as const;

for (const { readPreference, fault, streamWaits } of elections) {
  test(`${fault} (FEED_READ_PREFERENCE=${readPreference}): a POST waits for the new primary, readiness says why, the metrics count the election`, async () => {
    // Long enough for readiness to see the stream wait (1.5 s), short enough for a POST's deadline.
    await using set = await startEmulator({ members: 3, electionTimeoutMs: 2_500 });
    const uri = withDatabase(set.uri, uniqueDatabase("rs_election"));
    await using feed = await startTestFeed(uri, { FEED_READ_PREFERENCE: readPreference, REQUEST_TIMEOUT_MS: "10000" });
    const follower = await FeedClient.connect(feed.ws);
    const before = await scrape(feed.http);

    const lost = feed.observed.next("primary-lost");
    const primary = primaryOf(set.members);
    if (fault === "the primary crashes") await primary.shutdown({ force: true });
    else await stepDown(primary, 60);
    await lost;
    // No primary now: a POST waits for the election instead of failing.
    const posted = postJson(feed.http, { author: "ada", content: "during the election" });
    if (streamWaits) {
      // The stream must resume on a primary, and waits for one too: not ready, and saying why (not "unreachable").
      const waiting = await feed.observed.waitFor("readiness-changed", (seen) => !seen.ready, 10_000);
      expect(waiting).toMatchObject({ ready: false, reason: "no-primary" });
      const ready = await fetch(`${feed.http}/health/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ reason: "no-primary" });
    } else {
      // The stream goes on from a secondary: ready, and saying writes wait.
      const ready = await fetch(`${feed.http}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: "ready", primary: false });
    }
    const response = await posted;
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as { id: string };
    await follower.until((frames) => postIds(frames).includes(id), 15_000, "the post written during the election");

    const elected = await feed.observed.waitFor("primary-elected", () => true, 10_000);
    expect(elected.withoutPrimaryMs).toBeGreaterThan(0);
    const afterwards = await scrape(feed.http);
    expect(seriesValue(afterwards, "mongo_feed_mongodb_elections_total") - seriesValue(before, "mongo_feed_mongodb_elections_total")).toBe(
      1,
    );
    expect(seriesValue(afterwards, "mongo_feed_mongodb_without_primary_seconds_total")).toBeGreaterThan(0);
    expect(seriesValue(afterwards, "mongo_feed_mongodb_primary")).toBe(1);
    // Ready again, with a primary (the stream may first move to it: readiness follows within its sweep).
    await feed.observed.waitFor(
      "readiness-changed",
      (seen) => seen.ready && seen.primary && feed.observed.all.indexOf(seen) > feed.observed.all.indexOf(elected),
      10_000,
    );
    expect((await fetch(`${feed.http}/health/ready`)).status).toBe(200);
    follower.close();
  }, 60_000);
}
