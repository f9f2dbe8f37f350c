// Defends: a filtered connection gets exactly its part of the feed (author, id, types), from a snapshot or a since, and a bad filter is told why before any frame.
import { describe, expect, test } from "bun:test";
import { ObjectId } from "mongodb";
import { FeedClient } from "./support/feed-client.ts";
import { applyFrames, listAll } from "./support/feed-view.ts";
import { useFeed } from "./support/harness.ts";
import { postJson } from "./support/test-feed.ts";

const feed = useFeed({ database: "filters" });

async function create(author: string, content: string): Promise<string> {
  const response = await postJson(feed.http, { author, content });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

const hundredAndOne = Array.from({ length: 101 }, (_, n) => `author=a${n}`).join("&");
const tooManyAuthorIds = Array.from({ length: 101 }, (_, n) => `authorId=user-${n}`).join("&");
const tooManyIds = Array.from({ length: 101 }, () => `id=${new ObjectId().toHexString()}`).join("&");

describe("a bad filter", () => {
  const cases: { name: string; query: string; reason: RegExp }[] = [
    { name: "an unknown parameter", query: "colour=blue", reason: /^unknown query parameter "colour"$/ },
    { name: "101 authors", query: hundredAndOne, reason: /^at most 100 authors$/ },
    { name: "101 ids", query: tooManyIds, reason: /^at most 100 ids$/ },
    { name: "101 authorIds", query: tooManyAuthorIds, reason: /^at most 100 authorIds$/ },
    { name: "an empty author", query: "author=", reason: /^author must not be empty$/ },
    { name: "a malformed id", query: "id=42", reason: /^id must be a post id \(24 hex characters\), got "42"$/ },
    { name: "an unknown type", query: "types=insert,upsert", reason: /^unknown type "upsert" \(types are insert, update, delete\)$/ },
    { name: "an empty types", query: "types=", reason: /^unknown type ""/ },
  ];
  for (const { name, query, reason } of cases) {
    test(`(${name}) opens the socket and closes it at once with 4400 and the reason; GET /posts answers 400`, async () => {
      const client = await FeedClient.connect(`${feed.ws}?${query}`);
      const closed = await client.closed;
      expect(closed.code).toBe(4400);
      expect(closed.reason).toMatch(reason);
      expect(client.frames).toEqual([]);

      const response = await fetch(`${feed.http}/posts?${query}`);
      expect(response.status).toBe(400);
      const problem = (await response.json()) as { issues: { message: string }[] };
      expect(problem.issues[0]!.message).toMatch(reason);
    });
  }

  test("a bad filter on a plain GET / still gets the page, and a refused socket subscribes to nothing", async () => {
    const page = await fetch(`${feed.http}/?colour=blue`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const refused = await FeedClient.connect(`${feed.ws}?types=sometimes`);
    await refused.closed;
    const watcher = await FeedClient.connect(feed.ws);
    await create("ada", "after the refusal");
    await watcher.untilInserts(1);
    expect(refused.frames).toEqual([]);
    watcher.close();
  });

  test("a close reason is cut to the 123 bytes a close frame can carry", async () => {
    const client = await FeedClient.connect(`${feed.ws}?id=${"é".repeat(200)}`);
    const { code, reason } = await client.closed;
    expect(code).toBe(4400);
    expect(new TextEncoder().encode(reason).length).toBeLessThanOrEqual(123);
    expect(reason).toStartWith("id must be a post id");
  });
});

describe("filtered frames", () => {
  test("author, id and types select exactly their part, and repeated values combine with OR", async () => {
    const ada = await FeedClient.connect(`${feed.ws}?author=ada`);
    const adaOrBob = await FeedClient.connect(`${feed.ws}?author=bob&author=ada`);
    const insertsOnly = await FeedClient.connect(`${feed.ws}?types=insert`);
    const everything = await FeedClient.connect(feed.ws);
    const adaPost = await create("ada", "a1");
    const bobPost = await create("bob", "b1");
    await create("cy", "c1");
    const byId = await FeedClient.connect(`${feed.ws}?id=${bobPost}`);
    await fetch(`${feed.http}/posts/${bobPost}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: '{"content":"b2"}',
    });
    await fetch(`${feed.http}/posts/${adaPost}`, { method: "DELETE" });
    await everything.until((frames) => frames.length >= 5, 15_000, "all five changes");
    await byId.until((frames) => frames.length >= 1);
    await adaOrBob.until((frames) => frames.length >= 4);

    const kinds = (client: FeedClient) =>
      client.frames.map((frame) => `${frame.type} ${"post" in frame ? frame.post.content : "id" in frame ? frame.id : ""}`);
    expect(kinds(everything)).toEqual(["insert a1", "insert b1", "insert c1", "update b2", `delete ${adaPost}`]);
    expect(kinds(ada)).toEqual(["insert a1", `delete ${adaPost}`]);
    expect(kinds(adaOrBob)).toEqual(["insert a1", "insert b1", "update b2", `delete ${adaPost}`]);
    expect(kinds(insertsOnly)).toEqual(["insert a1", "insert b1", "insert c1"]);
    expect(kinds(byId)).toEqual(["update b2"]);
    // The same change is the same frame on every connection that gets it.
    expect(adaOrBob.raw[3]).toBe(everything.raw[4]);
    for (const client of [ada, adaOrBob, insertsOnly, everything, byId]) client.close();
  });

  test("an author change moves the post: leave for the old author's view, enter for the new one's", async () => {
    const driver = feed.driver;
    const dee = await FeedClient.connect(`${feed.ws}?author=dee`);
    const eve = await FeedClient.connect(`${feed.ws}?author=eve`);
    const id = await create("dee", "moving");
    await driver
      .db()
      .collection("posts")
      .updateOne({ _id: new ObjectId(id) }, { $set: { author: "eve" } });
    await eve.until((frames) => frames.length >= 1);
    await dee.until((frames) => frames.length >= 2);
    expect(dee.frames.map((frame) => frame.type)).toEqual(["insert", "leave"]);
    expect(dee.frames[1]).toEqual({ type: "leave", position: expect.any(String), id });
    expect(eve.frames).toEqual([
      {
        type: "enter",
        position: dee.frames[1]!.type === "leave" ? dee.frames[1]!.position : "",
        post: expect.objectContaining({ id, author: "eve" }),
      },
    ]);
    dee.close();
    eve.close();
  });
});

describe("snapshot then stream, and since, for a filtered view", () => {
  test("GET /posts?author=… then the socket from its position continues exactly after it, under concurrent writes", async () => {
    const driver = feed.driver;
    const collection = driver.db().collection("posts");
    let writing = true;
    const writer = (async () => {
      for (let n = 0; writing || n < 60; n++) {
        const author = ["fay", "gus"][n % 2]!;
        await collection.insertOne({ author, content: `w${n}`, createdAt: new Date() });
        if (n % 5 === 4)
          await collection.updateMany({ author, content: { $regex: /^w/ } }, { $set: { content: `edited ${n}`, updatedAt: new Date() } });
      }
    })();
    const sessions: FeedClient[] = [];
    const snapshots: Map<string, unknown>[] = [];
    for (let round = 0; round < 4; round++) {
      const { view, position } = await listAll(feed.http, "author=fay");
      snapshots.push(view);
      sessions.push(await FeedClient.connect(`${feed.ws}?author=fay&since=${position}`));
    }
    writing = false;
    await writer;
    const marker = await create("fay", "marker");
    const { view: final } = await listAll(feed.http, "author=fay");
    for (const [index, client] of sessions.entries()) {
      await client.until((frames) => frames.some((frame) => "post" in frame && frame.post.id === marker), 20_000, "the marker");
      // The snapshot plus the stream after it is exactly the filtered list at the end.
      expect(applyFrames(client.frames, new Map(snapshots[index]! as Map<string, never>))).toEqual(final);
      expect(client.frames.every((frame) => !("post" in frame) || frame.post.author === "fay")).toBe(true);
      client.close();
    }
  }, 60_000);

  test("a filtered connection that reconnects with since gets exactly what it missed of its part", async () => {
    const client = await FeedClient.connect(`${feed.ws}?author=hal`);
    await create("hal", "h1");
    await client.untilInserts(1);
    client.close();
    await client.closed;
    await create("ivy", "not for hal");
    const h2 = await create("hal", "h2");
    await fetch(`${feed.http}/posts/${h2}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: '{"content":"h2 edited"}',
    });
    const again = await FeedClient.connect(`${feed.ws}?author=hal&since=${client.lastPosition}`);
    await again.until((frames) => frames.length >= 2);
    const h3 = await create("hal", "h3");
    await again.until((frames) => frames.length >= 3);
    expect(again.frames.map((frame) => `${frame.type} ${"post" in frame ? frame.post.content : ""}`)).toEqual([
      "insert h2",
      "update h2 edited",
      "insert h3",
    ]);
    expect(again.frames[2]).toMatchObject({ post: { id: h3 } });
    again.close();
  });
});
