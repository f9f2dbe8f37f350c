// Defends: with auth on a post's author comes from the token (never the body) and its sub is stored as authorId; reads need a token unless public; with auth off, posts work as before and carry no authorId.
import { describe, expect, test } from "bun:test";
import { mayChangePost } from "../src/auth/post-ownership.ts";
import type { Identity } from "../src/auth/identity.ts";
import { FeedClient } from "./support/feed-client.ts";
import { useFeed, useMongo } from "./support/harness.ts";
import { postJson } from "./support/test-feed.ts";
import { claims, randomSecret, signHs256 } from "./support/tokens.ts";

const mongo = useMongo();
const secret = randomSecret();

const token = (overrides = {}) => signHs256(secret, claims(overrides));
const bearer = async (overrides = {}) => ({ Authorization: `Bearer ${await token(overrides)}` });
const postAs = async (http: string, body: unknown, headers: Record<string, string>) =>
  fetch(`${http}/posts`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) });

describe("auth on: the author comes from the token", () => {
  const feed = useFeed({ mongo, database: "author", env: { AUTH_JWT_SECRET: secret } });
  const database = feed.database;
  const count = () => mongo.driver.db(database).collection("posts").countDocuments();

  test("name is the author, sub is the authorId, in the 201, the stored document, GET and the frame", async () => {
    const client = await FeedClient.connect(feed.ws, { protocols: ["mongo-feed.v1", `bearer.${await token({ sub: "reader" })}`] });
    const response = await postAs(feed.http, { content: " signed post " }, await bearer({ sub: "user-ada", name: " Ada Lovelace " }));
    expect(response.status).toBe(201);
    const view = (await response.json()) as Record<string, string>;
    expect(view).toEqual({
      id: expect.any(String),
      author: "Ada Lovelace",
      authorId: "user-ada",
      content: "signed post",
      createdAt: expect.any(String),
    });
    expect(Object.keys(view)).toEqual(["id", "author", "authorId", "content", "createdAt"]);
    const stored = await mongo.driver.db(database).collection("posts").findOne({ author: "Ada Lovelace" });
    expect(Object.keys(stored!)).toEqual(["_id", "author", "authorId", "content", "createdAt"]);
    expect(stored!.authorId).toBe("user-ada");
    expect(await (await fetch(`${feed.http}/posts/${view.id}`, { headers: await bearer() })).json()).toEqual(view);
    const list = (await (await fetch(`${feed.http}/posts`, { headers: await bearer() })).json()) as { posts: unknown[] };
    expect(list.posts).toContainEqual(view);
    await client.untilInserts(1);
    expect(client.inserts[0]!.post).toEqual(view as never);
    client.close();
  });

  test("without name, preferred_username is the author; without either, sub", async () => {
    const byUsername = await postAs(
      feed.http,
      { content: "x" },
      await bearer({ sub: "u-1", name: undefined, preferred_username: "ada_l" }),
    );
    expect(await byUsername.json()).toMatchObject({ author: "ada_l", authorId: "u-1" });
    const bySub = await postAs(feed.http, { content: "x" }, await bearer({ sub: "u-2", name: "  ", preferred_username: undefined }));
    expect(await bySub.json()).toMatchObject({ author: "u-2", authorId: "u-2" });
  });

  test("a body that names an author is refused with 400, and nothing is stored", async () => {
    const before = await count();
    const response = await postAs(feed.http, { author: "admin", content: "spoofed" }, await bearer());
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      status: 400,
      issues: [{ path: "author", message: "the author comes from your token" }],
    });
    expect(await count()).toBe(before);
  });

  for (const [what, name] of [
    ["a bidi override", "\u202eadmin"],
    ["markup", "<img src=x onerror=alert(1)>"],
    ["more than 64 characters", "a".repeat(65)],
  ] as const) {
    test(`a token name with ${what} cannot be an author: 403, and nothing is stored`, async () => {
      const before = await count();
      const response = await postAs(feed.http, { content: "x" }, await bearer({ name }));
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({
        status: 403,
        detail: expect.stringMatching(/^your token's name claim cannot be an author name: author must/),
      });
      expect(await count()).toBe(before);
    });
  }

  test("writes and reads need a token; health does not", async () => {
    const anonymous = await postJson(feed.http, { content: "x" });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe('Bearer error="invalid_token", error_description="a bearer token is required"');
    expect((await fetch(`${feed.http}/posts`)).status).toBe(401);
    expect((await fetch(`${feed.http}/posts/0123456789abcdef01234567`)).status).toBe(401);
    expect((await fetch(`${feed.http}/posts`, { headers: { Authorization: "Basic YWRhOnB3" } })).status).toBe(401);
    expect((await fetch(`${feed.http}/health/live`)).status).toBe(200);
    const client = await FeedClient.connect(feed.ws);
    expect(await client.closed).toEqual({ code: 4401, reason: "a bearer token is required" });
  });
});

describe("auth on with AUTH_PUBLIC_READ", () => {
  const feed = useFeed({ mongo, database: "public_read", env: { AUTH_JWT_SECRET: secret, AUTH_PUBLIC_READ: "true" } });
  test("anyone reads, the list and the feed; writing still needs a token", async () => {
    const client = await FeedClient.connect(feed.ws);
    expect((await postJson(feed.http, { content: "x" })).status).toBe(401);
    expect((await postAs(feed.http, { content: "public" }, await bearer())).status).toBe(201);
    await client.untilInserts(1);
    expect(client.inserts[0]!.post).toMatchObject({ author: "Ada", authorId: "user-ada", content: "public" });
    expect((await fetch(`${feed.http}/posts`)).status).toBe(200);
    client.close();
  });

  test("a token that is sent is still checked: an invalid one is refused, not ignored", async () => {
    expect((await fetch(`${feed.http}/posts`, { headers: { Authorization: "Bearer not-a-token" } })).status).toBe(401);
    const client = await FeedClient.connect(`${feed.ws}?access_token=not.a.token`);
    expect(await client.closed).toEqual({ code: 4401, reason: "the token is malformed" });
  });
});

describe("auth off", () => {
  const feed = useFeed({ mongo, database: "auth_off" });
  const database = feed.database;
  test("the body's author is the author, tokens are ignored, and there is no authorId anywhere", async () => {
    const client = await FeedClient.connect(feed.ws, { protocols: ["mongo-feed.v1", `bearer.${await token()}`] });
    const response = await postAs(feed.http, { author: "grace", content: "open mode" }, await bearer({ sub: "someone" }));
    expect(response.status).toBe(201);
    const view = (await response.json()) as Record<string, string>;
    expect(Object.keys(view)).toEqual(["id", "author", "content", "createdAt"]);
    expect(view.author).toBe("grace");
    const stored = await mongo.driver.db(database).collection("posts").findOne({ author: "grace" });
    expect(Object.keys(stored!)).toEqual(["_id", "author", "content", "createdAt"]);
    await client.untilInserts(1);
    expect(Object.keys(client.inserts[0]!.post)).toEqual(["id", "author", "content", "createdAt"]);
    client.close();
  });

  test("startup warns once that anyone can post as anyone", () => {
    expect(feed.logs.filter((line) => line.event === "auth-off")).toEqual([expect.objectContaining({ level: "warn" })]);
  });

  for (const [what, author] of [
    ["a bidi override", "\u202eadmin"],
    ["markup", "<b>ada</b>"],
  ] as const) {
    test(`a body author with ${what} is refused with 400, as a token's name would be`, async () => {
      const response = await postJson(feed.http, { author, content: "x" });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        issues: [{ path: "author", message: "author must not contain bidirectional control characters, < or >" }],
      });
    });
  }
});

describe("who may change a stored post (the seam PATCH and DELETE use)", () => {
  const ada: Identity = { sub: "user-ada", displayName: { claim: "name", value: "Ada" }, expiresAt: Date.now() + 60_000 };
  test("with auth on, only the author (same sub) may; a post without authorId belongs to nobody", () => {
    expect(mayChangePost(true, ada, { authorId: "user-ada" })).toBe(true);
    expect(mayChangePost(true, ada, { authorId: "user-grace" })).toBe(false);
    expect(mayChangePost(true, ada, {})).toBe(false);
    expect(mayChangePost(true, undefined, { authorId: "user-ada" })).toBe(false);
  });
  test("with auth off, anyone may", () => {
    expect(mayChangePost(false, undefined, {})).toBe(true);
  });
});
