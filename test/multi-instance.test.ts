// Defends: positions and snapshots work across instances: a client can move between them and lose nothing.
import { expect, test } from "bun:test";
import { FeedClient } from "./support/feed-client.ts";
import { followWithReconnects } from "./support/follow-feed.ts";
import { useMongo } from "./support/harness.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { PostWriter, postIds } from "./support/post-writer.ts";
import { connectDriver, postJson, startTestFeed } from "./support/test-feed.ts";

const mongo = useMongo();

test("two instances on one database both broadcast posts accepted by either", async () => {
  const uri = mongo.uri(uniqueDatabase("pair"));
  await using a = await startTestFeed(uri);
  await using b = await startTestFeed(uri);
  const onA = await FeedClient.connect(a.ws);
  const onB = await FeedClient.connect(b.ws);
  const viaA = (await (await postJson(a.http, { author: "a", content: "via A" })).json()) as { id: string };
  const viaB = (await (await postJson(b.http, { author: "b", content: "via B" })).json()) as { id: string };
  await onA.untilInserts(2);
  await onB.untilInserts(2);
  expect(postIds(onA.frames)).toEqual([viaA.id, viaB.id]);
  expect(onB.raw).toEqual(onA.raw); // the very same frames, positions included
  onA.close();
  onB.close();
});

test("a client moves from one instance to the other with since and loses nothing", async () => {
  const uri = mongo.uri(uniqueDatabase("move"));
  await using a = await startTestFeed(uri);
  await using b = await startTestFeed(uri);
  await using driver = await connectDriver(uri);
  const writer = new PostWriter(driver.db().collection("posts"), 400);

  const hops = [
    { after: 60, url: b.ws },
    { after: 90, url: a.ws },
    { after: 100, url: b.ws },
  ];
  const { received, committed } = await followWithReconnects(a.ws, hops, writer.done);
  expect(received).toEqual(committed);
}, 60_000);

test("a snapshot from one instance streams on the other without gap or duplicate", async () => {
  const uri = mongo.uri(uniqueDatabase("snapmove"));
  await using a = await startTestFeed(uri);
  await using b = await startTestFeed(uri);
  await using driver = await connectDriver(uri);
  const writer = new PostWriter(driver.db().collection("posts"), 300);
  await writer.written(50);
  const page = (await (await fetch(`${a.http}/posts?limit=100`)).json()) as { posts: { id: string }[]; position: string };
  const client = await FeedClient.connect(`${b.ws}?since=${page.position}`);
  const ids = await writer.done;
  const newest = ids.indexOf(page.posts[0]!.id);
  expect(page.posts.map((p) => p.id).reverse()).toEqual(ids.slice(0, newest + 1));
  await client.until(() => client.inserts.length >= ids.length - newest - 1, 20_000, "the posts after the snapshot");
  expect(postIds(client.frames)).toEqual(ids.slice(newest + 1));
  client.close();
}, 60_000);
