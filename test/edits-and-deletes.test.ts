// Defends: PATCH and DELETE keep the documented contract, and every edit and deletion reaches clients as the post was right after that change.
import { describe, expect, test } from "bun:test";
import { ObjectId } from "mongodb";
import { FeedClient } from "./support/feed-client.ts";
import { useFeed } from "./support/harness.ts";
import { postJson } from "./support/test-feed.ts";

const feed = useFeed({ database: "edits" });

type Post = { id: string; author: string; content: string; createdAt: string; updatedAt?: string };

async function create(content: string, author = "ada"): Promise<Post> {
  const response = await postJson(feed.http, { author, content });
  expect(response.status).toBe(201);
  return (await response.json()) as Post;
}

const patch = (id: string, body: unknown, type = "application/json") =>
  fetch(`${feed.http}/posts/${id}`, {
    method: "PATCH",
    headers: { "Content-Type": type },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
const remove = (id: string) => fetch(`${feed.http}/posts/${id}`, { method: "DELETE" });

describe("PATCH /posts/:id", () => {
  test("stores the trimmed content, answers 200 with the post and updatedAt, and GET agrees", async () => {
    const post = await create("first words");
    expect(post).not.toHaveProperty("updatedAt");
    const response = await patch(post.id, { content: "  better words \n" });
    expect(response.status).toBe(200);
    const edited = (await response.json()) as Post;
    expect(edited).toEqual({ ...post, content: "better words", updatedAt: expect.any(String) });
    expect(new Date(edited.updatedAt!).toISOString()).toBe(edited.updatedAt!);
    expect(Object.keys(edited)).toEqual(["id", "author", "content", "createdAt", "updatedAt"]);
    expect(await (await fetch(`${feed.http}/posts/${post.id}`)).json()).toEqual(edited);
    const listed = (await (await fetch(`${feed.http}/posts?id=${post.id}`)).json()) as { posts: Post[] };
    expect(listed.posts).toEqual([edited]);
  });

  const bad: { name: string; body: unknown; type?: string; status: number; issue?: { path: string; message: RegExp } }[] = [
    { name: "empty content", body: { content: " \t " }, status: 400, issue: { path: "content", message: /must not be empty/ } },
    {
      name: "content over 10,000 characters",
      body: { content: "c".repeat(10_001) },
      status: 400,
      issue: { path: "content", message: /at most 10000/ },
    },
    {
      name: "an unknown field",
      body: { content: "x", author: "mallory" },
      status: 400,
      issue: { path: "author", message: /unknown field "author"/ },
    },
    { name: "no content", body: {}, status: 400, issue: { path: "content", message: /^content is required$/ } },
    { name: "an array body", body: [{ content: "x" }], status: 400, issue: { path: "", message: /JSON object with content/ } },
    { name: "malformed JSON", body: '{"content": ', status: 400 },
    { name: "a text body", body: "content=x", type: "text/plain", status: 415 },
  ];
  for (const { name, body, type, status, issue } of bad) {
    test(`refuses ${name} with ${status} and changes nothing`, async () => {
      const post = await create("unchanged");
      const response = await patch(post.id, body, type);
      expect(response.status).toBe(status);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      const problem = (await response.json()) as { issues?: unknown };
      if (issue) expect(problem.issues).toEqual([{ path: issue.path, message: expect.stringMatching(issue.message) }]);
      expect(await (await fetch(`${feed.http}/posts/${post.id}`)).json()).toEqual(post);
    });
  }

  test("an unknown id, a malformed id and a deleted post are 404", async () => {
    expect((await patch(new ObjectId().toHexString(), { content: "x" })).status).toBe(404);
    expect((await patch("not-an-id", { content: "x" })).status).toBe(404);
    const post = await create("soon gone");
    expect((await remove(post.id)).status).toBe(204);
    const response = await patch(post.id, { content: "too late" });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ status: 404, detail: `No post with id "${post.id}"`, instance: `/posts/${post.id}` });
  });

  test("a document that is not a post is not edited", async () => {
    const { insertedId } = await feed.posts.insertOne({ hello: "world" });
    expect((await patch(insertedId.toHexString(), { content: "x" })).status).toBe(404);
    expect(await feed.posts.findOne({ _id: insertedId })).toEqual({ _id: insertedId, hello: "world" });
  });
});

describe("DELETE /posts/:id", () => {
  test("answers 204 with no body, then 404 for the second delete and for GET", async () => {
    const post = await create("delete me");
    const first = await remove(post.id);
    expect(first.status).toBe(204);
    expect(await first.text()).toBe("");
    const second = await remove(post.id);
    expect(second.status).toBe(404);
    expect(second.headers.get("content-type")).toBe("application/problem+json");
    expect((await fetch(`${feed.http}/posts/${post.id}`)).status).toBe(404);
    expect(await feed.posts.countDocuments({ _id: new ObjectId(post.id) })).toBe(0);
  });

  test("an unknown or malformed id is 404", async () => {
    expect((await remove(new ObjectId().toHexString())).status).toBe(404);
    expect((await remove("zzz")).status).toBe(404);
  });
});

describe("frames", () => {
  test("edits and deletes reach clients in commit order, each update carrying the post as of that change", async () => {
    const client = await FeedClient.connect(feed.ws);
    const post = await create("v0");
    for (const content of ["v1", "v2", "v3"]) expect((await patch(post.id, { content })).status).toBe(200);
    expect((await remove(post.id)).status).toBe(204);
    await client.until((frames) => frames.some((frame) => frame.type === "delete"), 15_000, "the delete");
    expect(client.frames.map((frame) => frame.type)).toEqual(["insert", "update", "update", "update", "delete"]);
    // Three quick edits: each frame has its own state, never a later one (no updateLookup).
    expect(client.frames.slice(1, 4).map((frame) => frame.type === "update" && frame.post.content)).toEqual(["v1", "v2", "v3"]);
    expect(client.frames[4]).toEqual({ type: "delete", position: expect.stringMatching(/^82/), id: post.id });
    for (const raw of client.raw.slice(1, 4)) {
      const frame = JSON.parse(raw);
      expect(Object.keys(frame)).toEqual(["type", "position", "post"]);
      expect(Object.keys(frame.post)).toEqual(["id", "author", "content", "createdAt", "updatedAt"]);
    }
    expect(Object.keys(JSON.parse(client.raw[4]!))).toEqual(["type", "position", "id"]);
    client.close();
  });

  test("a driver update that breaks the post shape is a leave, and one that restores it an enter", async () => {
    const client = await FeedClient.connect(feed.ws);
    const post = await create("fragile");
    const _id = new ObjectId(post.id);
    await feed.posts.updateOne({ _id }, { $unset: { content: "" } });
    await feed.posts.updateOne({ _id }, { $set: { content: "whole again" } });
    await feed.posts.replaceOne({ _id }, { note: "replaced by something else" });
    await client.until((frames) => frames.length >= 4, 15_000, "four frames");
    expect(client.frames.map((frame) => frame.type)).toEqual(["insert", "leave", "enter", "leave"]);
    expect(client.frames[2]).toMatchObject({ type: "enter", post: { id: post.id, content: "whole again" } });
    client.close();
  });

  test("a reconnect with since replays edits and deletes too, exactly once", async () => {
    const client = await FeedClient.connect(feed.ws);
    const post = await create("before the drop");
    await client.untilInserts(1);
    client.close();
    await client.closed;
    expect((await patch(post.id, { content: "while away" })).status).toBe(200);
    expect((await remove(post.id)).status).toBe(204);
    const again = await FeedClient.connect(`${feed.ws}?since=${client.lastPosition}`);
    await again.until((frames) => frames.length >= 2, 15_000, "the missed edit and delete");
    expect(again.frames.map((frame) => frame.type)).toEqual(["update", "delete"]);
    again.close();
  });
});
