// Defends: the HTTP API's contract: stored posts, exact errors as problem+json, routing and paging.
import { describe, expect, test } from "bun:test";
import { failPoint } from "./support/fail-point.ts";
import { ObjectId } from "mongodb";
import { useFeed, useMongo } from "./support/harness.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { postJson, startTestFeed } from "./support/test-feed.ts";

const mongo = useMongo();
const feed = useFeed({ mongo, database: "api" });

describe("POST /posts", () => {
  test("stores a trimmed post and answers 201 with the post and its Location", async () => {
    const response = await postJson(feed.http, { author: "  Ada Lovelace ", content: "\n Notes on the engine \t" });
    expect(response.status).toBe(201);
    expect(response.headers.get("content-type")).toStartWith("application/json");
    const post = (await response.json()) as Record<string, string>;
    expect(post).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      author: "Ada Lovelace",
      content: "Notes on the engine",
      createdAt: expect.any(String),
    });
    expect(new Date(post.createdAt!).toISOString()).toBe(post.createdAt!);
    expect(response.headers.get("location")).toBe(`/posts/${post.id}`);

    const fetched = await fetch(`${feed.http}${response.headers.get("location")}`);
    expect(fetched.status).toBe(200);
    expect(await fetched.json()).toEqual(post);
    const stored = await feed.posts.findOne({ author: "Ada Lovelace" });
    expect(Object.keys(stored!)).toEqual(["_id", "author", "content", "createdAt"]);
    expect(stored!.createdAt).toBeInstanceOf(Date);
  });

  test("answers 201 with exactly what was stored, for any text it accepts", async () => {
    // Escaped surrogate pairs, CRLF, tab and non-BMP text: the 201 body, GET and the stored document agree.
    const body = '{"author":"\\ud83d\\ude00 Zo\\u00eb","content":"line one\\r\\nline\\ttwo \\ud834\\udd1e"}';
    const response = await fetch(`${feed.http}/posts`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    expect(response.status).toBe(201);
    const post = (await response.json()) as { id: string; author: string; content: string };
    expect(post).toMatchObject({ author: "\u{1F600} Zoë", content: "line one\r\nline\ttwo \u{1D11E}" });
    const stored = await feed.posts.findOne({ _id: new ObjectId(post.id) });
    expect({ author: stored!.author, content: stored!.content }).toEqual({ author: post.author, content: post.content });
    expect(await (await fetch(`${feed.http}/posts/${post.id}`)).json()).toEqual(post);
  });

  test("accepts the longest author and content", async () => {
    const response = await postJson(feed.http, { author: "a".repeat(64), content: "c".repeat(10_000) });
    expect(response.status).toBe(201);
  });

  const json = (body: unknown) => ({ body: JSON.stringify(body), type: "application/json" });
  const badRequests: {
    name: string;
    body: string | Uint8Array | ReadableStream;
    type?: string;
    status: number;
    detail: RegExp;
    issues?: { path: string; message: RegExp }[];
  }[] = [
    { name: "malformed JSON", body: '{"author": "a", ', type: "application/json", status: 400, detail: /not valid JSON/ },
    { name: "an empty body", body: "", type: "application/json", status: 400, detail: /empty/ },
    {
      name: "invalid UTF-8",
      body: new Uint8Array([0x7b, 0x22, 0x61, 0xff, 0xfe, 0x22, 0x7d]),
      type: "application/json",
      status: 400,
      detail: /UTF-8/,
    },
    {
      name: "a JSON array",
      ...json([{ author: "a", content: "b" }]),
      status: 400,
      detail: /not valid/,
      issues: [{ path: "", message: /JSON object/ }],
    },
    { name: "JSON null", ...json(null), status: 400, detail: /not valid/, issues: [{ path: "", message: /JSON object/ }] },
    {
      name: "a missing author",
      ...json({ content: "b" }),
      status: 400,
      detail: /not valid/,
      issues: [{ path: "author", message: /^author is required$/ }],
    },
    {
      name: "a missing content",
      ...json({ author: "a" }),
      status: 400,
      detail: /not valid/,
      issues: [{ path: "content", message: /^content is required$/ }],
    },
    {
      name: "a number as author",
      ...json({ author: 7, content: "b" }),
      status: 400,
      detail: /not valid/,
      issues: [{ path: "author", message: /must be a string/ }],
    },
    {
      name: "an object as content",
      ...json({ author: "a", content: { text: "b" } }),
      status: 400,
      detail: /not valid/,
      issues: [{ path: "content", message: /must be a string/ }],
    },
    {
      name: "an empty author",
      ...json({ author: "", content: "b" }),
      status: 400,
      detail: /not valid/,
      issues: [{ path: "author", message: /must not be empty/ }],
    },
    {
      name: "a whitespace-only content",
      ...json({ author: "a", content: " \n\t " }),
      status: 400,
      detail: /not valid/,
      issues: [{ path: "content", message: /must not be empty/ }],
    },
    {
      name: "a 65-character author",
      ...json({ author: "a".repeat(65), content: "b" }),
      status: 400,
      detail: /not valid/,
      issues: [{ path: "author", message: /at most 64/ }],
    },
    {
      name: "a 10,001-character content",
      ...json({ author: "a", content: "c".repeat(10_001) }),
      status: 400,
      detail: /not valid/,
      issues: [{ path: "content", message: /at most 10000/ }],
    },
    {
      name: "an extra field",
      ...json({ author: "a", content: "b", admin: true }),
      status: 400,
      detail: /not valid/,
      issues: [{ path: "admin", message: /unknown field "admin"/ }],
    },
    {
      // BSON would store it as U+FFFD, so the 201 body would not be what was stored.
      name: "a lone surrogate in content",
      body: '{"author":"a","content":"half \\ud800 a pair"}',
      type: "application/json",
      status: 400,
      detail: /not valid/,
      issues: [{ path: "content", message: /^content must be valid Unicode: it contains an unpaired surrogate/ }],
    },
    {
      name: "a lone low surrogate in author",
      body: '{"author":"\\udc00","content":"b"}',
      type: "application/json",
      status: 400,
      detail: /not valid/,
      issues: [{ path: "author", message: /^author must be valid Unicode/ }],
    },
    {
      name: "a NUL in author",
      ...json({ author: "ad\u0000a", content: "b" }),
      status: 400,
      detail: /not valid/,
      issues: [{ path: "author", message: /^author must not contain control characters \(tab and newline are allowed\)$/ }],
    },
    {
      name: "an escape sequence in author",
      ...json({ author: "\u001b[31mada", content: "b" }),
      status: 400,
      detail: /not valid/,
      issues: [{ path: "author", message: /must not contain control characters/ }],
    },
    {
      name: "a carriage return in author",
      ...json({ author: "ada\rlovelace", content: "b" }),
      status: 400,
      detail: /not valid/,
      issues: [{ path: "author", message: /must not contain control characters/ }],
    },
    {
      name: "a NUL or C1 control in content",
      ...json({ author: "a", content: "x\u0000y\u0085" }),
      status: 400,
      detail: /not valid/,
      issues: [
        { path: "content", message: /^content must not contain control characters \(tab, newline and carriage return are allowed\)$/ },
      ],
    },
    { name: "a body over 64 KiB", ...json({ author: "a", content: "c".repeat(70_000) }), status: 413, detail: /larger than 65536 bytes/ },
    { name: "no content type", body: '{"author":"a","content":"b"}', status: 415, detail: /application\/json, got none/ },
    {
      name: "a text/plain content type",
      body: '{"author":"a","content":"b"}',
      type: "text/plain",
      status: 415,
      detail: /got "text\/plain"/,
    },
    {
      name: "a form content type",
      body: "author=a&content=b",
      type: "application/x-www-form-urlencoded",
      status: 415,
      detail: /application\/json/,
    },
  ];

  for (const bad of badRequests) {
    test(`refuses ${bad.name} with ${bad.status} and stores nothing`, async () => {
      const before = await feed.posts.countDocuments();
      const headers: Record<string, string> = bad.type ? { "Content-Type": bad.type } : {};
      const response = await fetch(`${feed.http}/posts`, { method: "POST", headers, body: bad.body });
      expect(response.status).toBe(bad.status);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      const problem = (await response.json()) as Record<string, unknown>;
      expect(problem).toMatchObject({
        type: "about:blank",
        title: expect.any(String),
        status: bad.status,
        detail: expect.stringMatching(bad.detail),
      });
      if (bad.issues) {
        expect(problem.issues).toEqual(bad.issues.map((issue) => ({ path: issue.path, message: expect.stringMatching(issue.message) })));
      }
      expect(JSON.stringify(problem)).not.toMatch(/\bat .*\.ts:\d+/); // no stack traces
      expect(await feed.posts.countDocuments()).toBe(before);
    });
  }

  test("refuses a streamed body without Content-Length once it passes 64 KiB, without reading it all", async () => {
    const before = await feed.posts.countDocuments();
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        // Far more than the limit; the server must stop reading long before the end.
        if (sent >= 8 * 1024 * 1024) return controller.close();
        sent += 16 * 1024;
        controller.enqueue(new Uint8Array(16 * 1024).fill(0x20));
      },
    });
    const response = await fetch(`${feed.http}/posts`, { method: "POST", headers: { "Content-Type": "application/json" }, body: endless });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ status: 413, title: "Content Too Large" });
    expect(await feed.posts.countDocuments()).toBe(before);
  });

  test("answers 504, not 503, when the insert was sent and the connection died: the post may or may not be stored", async () => {
    const before = await feed.posts.countDocuments();
    let response: Response;
    {
      // The write and the driver's one retry both lose their connection after being sent: the
      // driver cannot know whether MongoDB applied either, so neither can the server.
      await using _outage = await failPoint(feed.driver, {
        mode: { times: 2 },
        data: { failCommands: ["insert"], closeConnection: true, appName: "mongo-feed" },
      });
      response = await postJson(feed.http, { author: "a", content: "during an outage" });
    }
    expect(response.status).toBe(504);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.headers.get("retry-after")).toBeNull();
    const problem = (await response.json()) as Record<string, string | number>;
    expect(problem).toEqual({
      type: "about:blank",
      title: "Gateway Timeout",
      status: 504,
      detail: expect.stringMatching(/may or may not have been stored\. Check GET \/posts\/[0-9a-f]{24} before posting it again/),
      instance: "/posts",
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      location: `/posts/${problem.id}`,
    });
    expect(problem.detail).not.toMatch(/retry shortly/);
    // The check the answer points to tells the truth: this fail point closes before the write is applied.
    expect(await feed.posts.countDocuments()).toBe(before);
    expect((await fetch(`${feed.http}${problem.location}`)).status).toBe(404);
    expect((await postJson(feed.http, { author: "a", content: "after the outage" })).status).toBe(201);
  });

  test("answers within REQUEST_TIMEOUT_MS while MongoDB holds a write (504) or a read (503)", async () => {
    await using quick = await startTestFeed(feed.uri, { REQUEST_TIMEOUT_MS: "400" });
    let started: number;
    {
      await using _slow = await failPoint(feed.driver, {
        mode: { times: 1 },
        data: { failCommands: ["insert"], blockConnection: true, blockTimeMS: 3_000, appName: "mongo-feed" },
      });
      started = performance.now();
      const response = await postJson(quick.http, { author: "a", content: "held by MongoDB" });
      expect(performance.now() - started).toBeLessThan(2_500);
      expect(response.status).toBe(504);
      const problem = (await response.json()) as { id: string; location: string };
      // Whichever way it went, the post is there once or not at all, and GET says which.
      const count = await feed.posts.countDocuments({ _id: new ObjectId(problem.id) });
      expect(count).toBeLessThanOrEqual(1);
      const check = await fetch(`${quick.http}${problem.location}`);
      expect(check.status).toBe(count === 1 ? 200 : 404);
    }
    {
      await using _slow = await failPoint(feed.driver, {
        mode: { times: 1 },
        data: { failCommands: ["find"], blockConnection: true, blockTimeMS: 3_000, appName: "mongo-feed" },
      });
      started = performance.now();
      const response = await fetch(`${quick.http}/posts/0123456789abcdef01234567`);
      expect(performance.now() - started).toBeLessThan(2_500);
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toMatch(/^\d+$/);
    }
  });
});

describe("routing", () => {
  const cases: { method: string; path: string; status: number; allow?: string }[] = [
    { method: "PUT", path: "/posts", status: 405, allow: "GET, POST, HEAD, OPTIONS" },
    { method: "DELETE", path: "/posts", status: 405, allow: "GET, POST, HEAD, OPTIONS" },
    { method: "POST", path: "/posts/0123456789abcdef01234567", status: 405, allow: "GET, PATCH, DELETE, HEAD, OPTIONS" },
    { method: "POST", path: "/", status: 405, allow: "GET, HEAD, OPTIONS" },
    { method: "GET", path: "/nothing-here", status: 404 },
    { method: "GET", path: "/posts/not-an-id", status: 404 },
    { method: "GET", path: "/posts/0123456789abcdef01234567", status: 404 },
  ];
  for (const { method, path, status, allow } of cases) {
    test(`${method} ${path} answers ${status} as problem+json`, async () => {
      const response = await fetch(`${feed.http}${path}`, { method });
      expect(response.status).toBe(status);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(await response.json()).toMatchObject({ status, detail: expect.any(String), instance: path });
      if (allow) expect(response.headers.get("allow")).toBe(allow);
    });
  }

  test("a plain GET / is the live page: HTML with a strict Content-Security-Policy; HEAD too", async () => {
    const page = await fetch(`${feed.http}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const policy = page.headers.get("content-security-policy")!;
    expect(policy).toStartWith("default-src 'none'; script-src 'sha256-");
    expect(policy).not.toContain("unsafe");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await page.text()).toContain("<title>mongo-feed</title>");
    const head = await fetch(`${feed.http}/`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  test("health endpoints say live and ready", async () => {
    expect(await (await fetch(`${feed.http}/health/live`)).json()).toEqual({ status: "live" });
    const ready = await fetch(`${feed.http}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready" });
  });
});

describe("GET /posts", () => {
  test("lists posts newest first, pages with before, and carries a position", async () => {
    const database = uniqueDatabase("list");
    await using listFeed = await startTestFeed(mongo.uri(database));
    const ids: string[] = [];
    for (let n = 0; n < 5; n++)
      ids.push(((await (await postJson(listFeed.http, { author: "lister", content: `n${n}` })).json()) as { id: string }).id);

    const first = (await (await fetch(`${listFeed.http}/posts?limit=3`)).json()) as {
      posts: { id: string }[];
      position: string;
      next: string;
    };
    expect(first.posts.map((post) => post.id)).toEqual(ids.slice(2).reverse());
    expect(first.position).toMatch(/^82[0-9A-F]{16}$/);
    expect(first.next).toBe(`/posts?limit=3&before=${ids[2]}`);
    const second = (await (await fetch(`${listFeed.http}${first.next}`)).json()) as { posts: { id: string }[]; next: string | null };
    expect(second.posts.map((post) => post.id)).toEqual(ids.slice(0, 2).reverse());
    expect(second.next).toBeNull();
  });

  for (const query of ["limit=0", "limit=101", "limit=ten", "before=xyz", "sort=asc"]) {
    test(`refuses ?${query} with 400`, async () => {
      const response = await fetch(`${feed.http}/posts?${query}`);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ status: 400, issues: [expect.objectContaining({ message: expect.any(String) })] });
    });
  }
});
