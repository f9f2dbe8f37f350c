// Defends: every post committed to MongoDB, by anyone, reaches every client once, in commit order, in the documented frame shape.
import { expect, test } from "bun:test";
import { FeedClient } from "./support/feed-client.ts";
import { useFeed, useMongo } from "./support/harness.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { postJson, startTestFeed } from "./support/test-feed.ts";

const mongo = useMongo();
const feed = useFeed({ mongo, database: "broadcast" });

/** Posts a marker and waits for every client to see it: after that, nothing more is in flight. */
async function settle(clients: FeedClient[]): Promise<string> {
  const response = await postJson(feed.http, { author: "marker", content: crypto.randomUUID() });
  const { id } = (await response.json()) as { id: string };
  await Promise.all(
    clients.map((client) => client.until((frames) => frames.some((f) => f.type === "insert" && f.post.id === id), 15_000, "the marker")),
  );
  return id;
}

test("100 clients receive every post exactly once, in commit order, with the exact frame shape", async () => {
  const clients = await Promise.all(Array.from({ length: 100 }, () => FeedClient.connect(feed.ws)));
  const created: unknown[] = [];
  for (let n = 0; n < 40; n++) {
    const response = await postJson(feed.http, { author: `author ${n}`, content: `post number ${n}` });
    expect(response.status).toBe(201);
    created.push(await response.json());
  }
  // Concurrent posts too: their commit order is whatever MongoDB decided, the same for everyone.
  const concurrent = await Promise.all(
    Array.from({ length: 20 }, (_, n) => postJson(feed.http, { author: "burst", content: `burst ${n}` }).then((r) => r.json())),
  );
  const markerId = await settle(clients);

  const reference = clients[0]!.inserts.map((frame) => frame.post);
  expect(reference.slice(0, 40)).toEqual(created as never[]);
  expect(new Set(reference.slice(40, 60).map((post) => post.id))).toEqual(new Set(concurrent.map((post) => (post as { id: string }).id)));
  expect(reference.at(-1)!.id).toBe(markerId);
  for (const client of clients) {
    expect(client.frames.length).toBe(61);
    expect(client.inserts.map((frame) => frame.post)).toEqual(reference);
    for (const raw of client.raw) {
      const frame = JSON.parse(raw);
      expect(Object.keys(frame)).toEqual(["type", "position", "post"]);
      expect(frame.type).toBe("insert");
      expect(frame.position).toMatch(/^82[0-9A-F]{16}/);
      expect(Object.keys(frame.post)).toEqual(["id", "author", "content", "createdAt"]);
      expect(frame.post.id).toMatch(/^[0-9a-f]{24}$/);
      expect(new Date(frame.post.createdAt).toISOString()).toBe(frame.post.createdAt);
    }
  }
  const positions = clients[0]!.inserts.map((frame) => frame.position);
  expect(new Set(positions).size).toBe(positions.length);
  for (const client of clients) client.close();
}, 60_000);

test("posts inserted directly through the driver are broadcast the same way", async () => {
  const client = await FeedClient.connect(feed.ws);
  const driver = feed.driver;
  const createdAt = new Date("2026-01-02T03:04:05.678Z");
  const { insertedId } = await driver.db().collection("posts").insertOne({ author: "shell", content: "from a script", createdAt });
  await client.untilInserts(1);
  expect(client.frames[0]).toEqual({
    type: "insert",
    position: expect.stringMatching(/^82/),
    post: { id: insertedId.toHexString(), author: "shell", content: "from a script", createdAt: createdAt.toISOString() },
  });
  client.close();
});

test("a document without the post shape is skipped, and the feed goes on", async () => {
  const client = await FeedClient.connect(feed.ws);
  const driver = feed.driver;
  await driver
    .db()
    .collection("posts")
    .insertMany([{ hello: "world" }, { author: 42, content: "x", createdAt: new Date() }]);
  const markerId = await settle([client]);
  expect(client.frames.map((frame) => frame.type === "insert" && frame.post.id)).toEqual([markerId]);
  client.close();
});

test("client frames are ignored without harm and oversize frames are refused with 1009", async () => {
  const client = await FeedClient.connect(feed.ws);
  client.socket.send("hello server");
  client.socket.send(JSON.stringify({ type: "subscribe" }));
  await settle([client]);
  expect(client.inserts.length).toBe(1);

  const greedy = await FeedClient.connect(feed.ws);
  greedy.socket.send("x".repeat(64 * 1024));
  expect((await greedy.closed).code).toBe(1009);
  // The server is unharmed: the first client still gets posts.
  await settle([client]);
  expect(client.inserts.length).toBe(2);
  client.close();
});

test("every post accepted right after a fresh server starts listening is broadcast", async () => {
  for (let round = 0; round < 3; round++) {
    await using fresh = await startTestFeed(mongo.uri(uniqueDatabase("fresh")));
    const client = await FeedClient.connect(fresh.ws);
    const response = await postJson(fresh.http, { author: "early", content: `round ${round}` });
    const { id } = (await response.json()) as { id: string };
    await client.untilInserts(1);
    expect(client.inserts[0]!.post.id).toBe(id);
    client.close();
  }
}, 30_000);

test("a fresh server is ready at once, and a snapshot taken right away streams from its position", async () => {
  // It listens as soon as MongoDB fixed where its stream starts, before the first getMore returns.
  for (let round = 0; round < 3; round++) {
    await using fresh = await startTestFeed(mongo.uri(uniqueDatabase("fresh_ready")));
    expect((await fetch(`${fresh.http}/health/ready`)).status).toBe(200);
    const page = (await (await fetch(`${fresh.http}/posts`)).json()) as { position: string };
    const client = await FeedClient.connect(`${fresh.ws}?since=${page.position}`);
    const { id } = (await (await postJson(fresh.http, { author: "early", content: `round ${round}` })).json()) as { id: string };
    await client.until((frames) => frames.length >= 1);
    expect(client.frames).toEqual([expect.objectContaining({ type: "insert", post: expect.objectContaining({ id }) })]);
    client.close();
  }
}, 30_000);
