// Defends: an instance whose feed reads from the primary (FEED_READ_PREFERENCE=primary) moves its stream
// to a newly elected primary. Its cursor would otherwise stay on the old one (mongod 4.2+ keeps reads
// going through a step-down), a secondary that still answers every getMore but, once it stops
// replicating, never has the new posts. Its own emulator: three members, one made to stop replicating.
import { expect, test } from "bun:test";
import { MongoClient } from "mongodb";
import { type Member, startEmulator, withDatabase } from "mongo-emulator";
import { FeedClient } from "./support/feed-client.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { postIds } from "./support/post-writer.ts";
import { postJson, startTestFeed } from "./support/test-feed.ts";

async function admin(member: Member, command: Record<string, unknown>): Promise<void> {
  const client = await new MongoClient(member.uri, { appName: "feed-tests", serverSelectionTimeoutMS: 2_000 }).connect();
  try {
    await client.db("admin").command(command);
  } finally {
    await client.close(true);
  }
}

async function post(http: string, content: string): Promise<string> {
  const response = await postJson(http, { author: "a", content });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

test("after a step-down, the feed reading from the primary follows the new one, though the old one stops replicating", async () => {
  await using set = await startEmulator({ members: 3, electionTimeoutMs: 200 });
  await using feed = await startTestFeed(withDatabase(set.uri, uniqueDatabase("follow_primary")));
  const follower = await FeedClient.connect(feed.ws);
  const before = await post(feed.http, "before the step-down");
  await follower.until((frames) => postIds(frames).includes(before), 10_000, "the post written before the step-down");

  const old = set.members.find((member) => member.isPrimary())!;
  await admin(old, { replSetStepDown: 60, secondaryCatchUpPeriodSecs: 1 }).catch(() => {}); // mongod may close the connection
  await admin(old, { configureFailPoint: "stopReplProducer", mode: "alwaysOn" });
  // Stored with w:"majority" by the new primary and the other secondary; the old primary never gets it.
  const after = await post(feed.http, "after the step-down");
  await follower.until((frames) => postIds(frames).includes(after), 10_000, "the post written after the step-down");
  expect(postIds(follower.frames)).toEqual([before, after]);
  expect(feed.observed.of("stream-resync")).toEqual([]);

  await admin(old, { configureFailPoint: "stopReplProducer", mode: "off" });
  follower.close();
}, 30_000);
