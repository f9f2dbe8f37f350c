// Defends: a server restarted after SIGTERM or SIGKILL loses and duplicates nothing, and old positions still replay.
import { expect, test } from "bun:test";
import { FeedClient } from "./support/feed-client.ts";
import { useMongo } from "./support/harness.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { PostWriter, postIds } from "./support/post-writer.ts";
import { ServerProcess } from "./support/server-process.ts";
import { connectDriver } from "./support/test-feed.ts";

const mongo = useMongo();

for (const [signal, closeCode] of [
  ["SIGTERM", 1001],
  ["SIGKILL", 1006],
] as const) {
  test(`a server restarted after ${signal} while posts are written loses and duplicates nothing`, async () => {
    const uri = mongo.uri(uniqueDatabase(`restart_${signal.toLowerCase()}`));
    await using driver = await connectDriver(uri);
    await using first = ServerProcess.spawn({ MONGODB_URI: uri });
    const client = await FeedClient.connect((await first.listening()).ws);
    const writer = new PostWriter(driver.db().collection("posts"), 600);

    await client.untilInserts(150, 20_000);
    first.kill(signal);
    expect((await client.closed).code).toBe(closeCode);
    await first.exited;

    // Posts keep being committed while no server runs; the next one must deliver them too.
    await using second = ServerProcess.spawn({ MONGODB_URI: uri });
    const resumed = await FeedClient.connect(`${(await second.listening()).ws}?since=${client.lastPosition}`);
    const ids = await writer.done;
    await resumed.until(() => client.inserts.length + resumed.inserts.length >= ids.length, 20_000, "the rest of the posts");
    expect([...postIds(client.frames), ...postIds(resumed.frames)]).toEqual(ids);
    expect(resumed.frames.some((frame) => frame.type === "resync")).toBe(false);
    resumed.close();
  }, 60_000);
}

test("after a restart, every position a client saw before it still replays", async () => {
  const uri = mongo.uri(uniqueDatabase("restart_old"));
  await using driver = await connectDriver(uri);
  await using first = ServerProcess.spawn({ MONGODB_URI: uri });
  const client = await FeedClient.connect((await first.listening()).ws);
  const writer = new PostWriter(driver.db().collection("posts"), 50);
  const ids = await writer.done;
  await client.untilInserts(50);
  first.kill("SIGTERM");
  expect(await first.exited).toBe(0);

  await using second = ServerProcess.spawn({ MONGODB_URI: uri });
  const { ws } = await second.listening();
  // A client that had only seen the 10th post comes back.
  const behind = await FeedClient.connect(`${ws}?since=${client.inserts[9]!.position}`);
  await behind.untilInserts(40);
  expect(postIds(behind.frames)).toEqual(ids.slice(10));
  behind.close();
}, 60_000);

test("a restarted server replays its history only to clients that ask with since, never as new posts", async () => {
  const uri = mongo.uri(uniqueDatabase("restart_replay"));
  await using driver = await connectDriver(uri);
  await using first = ServerProcess.spawn({ MONGODB_URI: uri });
  await first.listening();
  await new PostWriter(driver.db().collection("posts"), 300).done;
  first.kill("SIGTERM");
  expect(await first.exited).toBe(0);

  await using second = ServerProcess.spawn({ MONGODB_URI: uri });
  const { ws } = await second.listening();
  const fresh = await FeedClient.connect(ws);
  const [latest] = await new PostWriter(driver.db().collection("posts"), 1, () => "after the restart").done;
  await fresh.untilInserts(1);
  const marker = await new PostWriter(driver.db().collection("posts"), 1, () => "marker").done;
  await fresh.untilInserts(2);
  expect(postIds(fresh.frames)).toEqual([latest!, marker[0]!]);
  fresh.close();
}, 60_000);
