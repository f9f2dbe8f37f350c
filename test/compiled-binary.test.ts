// Defends: the single executable built by `bun build --compile` behaves like `bun run src/index.ts`.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FeedClient } from "./support/feed-client.ts";
import { useMongo } from "./support/harness.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { ServerProcess } from "./support/server-process.ts";
import { expectNoInternals, rawRequest } from "./support/raw-http.ts";
import { postJson } from "./support/test-feed.ts";

const mongo = useMongo();
const outDir = mkdtempSync(join(tmpdir(), "mongo-feed-binary-"));
const binary = join(outDir, "mongo-feed");

beforeAll(async () => {
  // `bun run build` itself, into a temporary folder (the last --outfile wins).
  const build = Bun.spawnSync(["bun", "run", "build", "--outfile", binary], {
    cwd: new URL("../", import.meta.url).pathname,
    stderr: "pipe",
  });
  if (build.exitCode !== 0) throw new Error(`bun run build failed: ${build.stderr.toString()}`);
}, 120_000);

afterAll(async () => {
  rmSync(outDir, { recursive: true, force: true });
});

test("the compiled executable starts from CLI flags, serves the page, accepts a POST and broadcasts it", async () => {
  await using server = ServerProcess.spawn(
    { MONGODB_URI: "" },
    [binary],
    ["--port", "0", "--host", "127.0.0.1", "--mongodb-uri", mongo.uri(uniqueDatabase("binary"))],
  );
  const { http, ws } = await server.listening(30_000);
  // The live page is inside the executable.
  const page = await fetch(`${http}/`);
  expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
  expect(await page.text()).toContain("<title>mongo-feed</title>");
  const client = await FeedClient.connect(ws);
  const response = await postJson(http, { author: "binary", content: "one file" });
  expect(response.status).toBe(201);
  const post = await response.json();
  await client.untilInserts(1);
  expect(client.frames).toEqual([{ type: "insert", position: expect.stringMatching(/^82/), post: post as never }]);
  server.kill("SIGTERM");
  expect(await server.exited).toBe(0);
  expect((await client.closed).code).toBe(1001);
}, 60_000);

test("the compiled executable answers a missing or malformed Host with a 400 problem and never shows internals", async () => {
  await using server = ServerProcess.spawn({ MONGODB_URI: mongo.uri(uniqueDatabase("binary_raw")) }, [binary]);
  const { http } = await server.listening(30_000);
  for (const request of ["GET /health/live HTTP/1.0\r\n\r\n", "GET /health/live HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n"]) {
    const answer = await rawRequest(http, request);
    expect(answer.status).toBe(400);
    expect(answer.headers["content-type"]).toBe("application/problem+json");
    expectNoInternals(answer.raw);
  }
  const odd = await rawRequest(http, "FOO / HTTP/1.1\r\nHost: feed.localhost\r\nConnection: close\r\n\r\n");
  if (odd.status !== undefined) expect(odd.status).toBeLessThan(500);
  expectNoInternals(odd.raw);
  expect((await fetch(`${http}/health/live`)).status).toBe(200);
}, 60_000);

test("the compiled executable prints its help", async () => {
  await using server = ServerProcess.spawn({}, [binary], ["--help"]);
  expect(await server.exited).toBe(0);
  expect(server.logs.map((line) => line.msg).join("\n")).toContain("--mongodb-uri");
});

test("the compiled executable's startup failure gives advice that works where it runs (no bun run dev)", async () => {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = probe;
  probe.stop(true);
  await using server = ServerProcess.spawn(
    { MONGODB_URI: `mongodb://127.0.0.1:${port}/social_network`, MONGODB_CONNECT_TIMEOUT_MS: "500" },
    [binary],
  );
  expect(await server.exited).toBe(1);
  expect(server.stderr).toContain(`could not reach MongoDB at mongodb://127.0.0.1:${port}/social_network within 500 ms`);
  expect(server.stderr).toContain("MONGODB_URI");
  expect(server.stderr).not.toContain("bun run dev");
});
