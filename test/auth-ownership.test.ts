// Defends: with auth on only a post's author (same sub) may edit or delete it, and authorId filters the feed and the list like author, since display names are not unique.
import { describe, expect, test } from "bun:test";
import { FeedClient } from "./support/feed-client.ts";
import { useFeed } from "./support/harness.ts";
import { claims, randomSecret, signHs256 } from "./support/tokens.ts";

const secret = randomSecret();
const feed = useFeed({ database: "ownership", env: { AUTH_JWT_SECRET: secret } });

const as = async (sub: string, name = "Sam") => ({ Authorization: `Bearer ${await signHs256(secret, claims({ sub, name }))}` });
const send = async (method: string, path: string, sub: string | undefined, body?: unknown) =>
  fetch(`${feed.http}${path}`, {
    method,
    headers: { "Content-Type": "application/json", ...(sub ? await as(sub) : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
const create = async (sub: string, content: string) => {
  const response = await send("POST", "/posts", sub, { content });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string };
};

describe("only the author changes a post", () => {
  test("its author edits and deletes it", async () => {
    const post = await create("user-ada", "mine");
    const edited = await send("PATCH", `/posts/${post.id}`, "user-ada", { content: "still mine" });
    expect(edited.status).toBe(200);
    expect(await edited.json()).toMatchObject({ authorId: "user-ada", content: "still mine", updatedAt: expect.any(String) });
    expect((await send("DELETE", `/posts/${post.id}`, "user-ada")).status).toBe(204);
  });

  test("someone else gets 403 and changes nothing, even with the same display name", async () => {
    const post = await create("user-ada", "not yours");
    for (const [method, body] of [
      ["PATCH", { content: "hijacked" }],
      ["DELETE", undefined],
    ] as const) {
      const response = await send(method, `/posts/${post.id}`, "user-mallory", body);
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ status: 403, detail: expect.stringContaining("Only the post's author") });
    }
    const stored = (await (await send("GET", `/posts/${post.id}`, "user-ada")).json()) as { content: string };
    expect(stored.content).toBe("not yours");
  });

  test("without a token: 401; an unknown post: 404 (not 403)", async () => {
    const post = await create("user-ada", "x");
    const anonymous = await send("PATCH", `/posts/${post.id}`, undefined, { content: "y" });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toStartWith("Bearer ");
    expect((await send("DELETE", "/posts/0123456789abcdef01234567", "user-ada")).status).toBe(404);
  });

  test("a post stored without authorId (auth off, or a script) belongs to nobody", async () => {
    const driver = feed.driver;
    const { insertedId } = await driver.db().collection("posts").insertOne({ author: "script", content: "orphan", createdAt: new Date() });
    expect((await send("PATCH", `/posts/${insertedId.toHexString()}`, "user-ada", { content: "adopted" })).status).toBe(403);
    expect((await send("DELETE", `/posts/${insertedId.toHexString()}`, "user-ada")).status).toBe(403);
  });
});

describe("authorId filters", () => {
  test("two authors with the same name: authorId tells them apart on the socket and the list", async () => {
    const reader = await signHs256(secret, claims({ sub: "reader" }));
    const onlyAda = await FeedClient.connect(`${feed.ws}?authorId=user-ada-2`, { protocols: ["mongo-feed.v1", `bearer.${reader}`] });
    const mallory = await create("user-mallory-2", "from the other Sam");
    const ada = await create("user-ada-2", "from Sam");
    await onlyAda.untilInserts(1);
    await send("PATCH", `/posts/${ada.id}`, "user-ada-2", { content: "edited by Sam" });
    await onlyAda.until((frames) => frames.length >= 2);
    expect(onlyAda.frames.map((frame) => ("post" in frame ? `${frame.type} ${frame.post.id}` : frame.type))).toEqual([
      `insert ${ada.id}`,
      `update ${ada.id}`,
    ]);

    const list = (await (await send("GET", "/posts?authorId=user-ada-2&author=Sam", "reader")).json()) as { posts: { id: string }[] };
    expect(list.posts.map((post) => post.id)).toEqual([ada.id]);
    expect(list.posts.map((post) => post.id)).not.toContain(mallory.id);
    onlyAda.close();
  });

  test("a bad authorId is refused like any bad filter", async () => {
    expect((await send("GET", "/posts?authorId=", "reader")).status).toBe(400);
  });
});
