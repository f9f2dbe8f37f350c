// Defends: signals, startup failures and configuration behave as documented, in a real child process.
import { describe, expect, test } from "bun:test";
import { failPoint } from "./support/fail-point.ts";
import { FeedClient } from "./support/feed-client.ts";
import { startEmulator } from "mongo-emulator";
import { useMongo } from "./support/harness.ts";
import { uniqueDatabase, withDatabase } from "./support/mongo-target.ts";
import { ServerProcess } from "./support/server-process.ts";
import { postJson } from "./support/test-feed.ts";

const mongo = useMongo();
const database = uniqueDatabase("process");

/** Holds the server's next insert inside MongoDB for `ms`, the way a slow primary would. */
function blockNextInsert(ms: number): Promise<AsyncDisposable> {
  return failPoint(mongo.driver, {
    mode: { times: 1 },
    data: { failCommands: ["insert"], blockConnection: true, blockTimeMS: ms, appName: "mongo-feed" },
  });
}

describe("shutdown", () => {
  test("SIGTERM closes every WebSocket with 1001 and exits 0 within 5 seconds", async () => {
    await using server = ServerProcess.spawn({ MONGODB_URI: mongo.uri(database) });
    const { http, ws } = await server.listening();
    const clients = await Promise.all([1, 2, 3].map(() => FeedClient.connect(ws)));
    expect((await postJson(http, { author: "a", content: "before shutdown" })).status).toBe(201);
    await Promise.all(clients.map((client) => client.untilInserts(1)));

    const started = performance.now();
    server.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(performance.now() - started).toBeLessThan(5_000);
    for (const client of clients) expect(await client.closed).toEqual({ code: 1001, reason: "server shutting down" });
    expect(server.logs.map((line) => line.event)).toContain("stopped");
  });

  test("SIGINT shuts down the same way", async () => {
    await using server = ServerProcess.spawn({ MONGODB_URI: mongo.uri(database) });
    const { ws } = await server.listening();
    const client = await FeedClient.connect(ws);
    server.kill("SIGINT");
    expect(await server.exited).toBe(0);
    expect((await client.closed).code).toBe(1001);
  });

  test("a POST in flight when SIGTERM arrives still finishes and is stored", async () => {
    await using server = ServerProcess.spawn({ MONGODB_URI: mongo.uri(database), LOG_LEVEL: "debug" });
    const { http } = await server.listening();
    await using _blocked = await blockNextInsert(1_000);
    const pending = postJson(http, { author: "late", content: "in flight" });
    await server.waitForEvent("request", (line) => line.method === "POST");
    server.kill("SIGTERM");
    const response = await pending;
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as { id: string };
    expect(await server.exited).toBe(0);
    expect(await mongo.driver.db(database).collection("posts").countDocuments({ content: "in flight" })).toBe(1);
    expect(id).toMatch(/^[0-9a-f]{24}$/);
  });

  test("a second signal exits at once, without waiting for the graceful shutdown", async () => {
    await using server = ServerProcess.spawn({ MONGODB_URI: mongo.uri(database), LOG_LEVEL: "debug" });
    const { http } = await server.listening();
    await using _blocked = await blockNextInsert(30_000);
    const pending = postJson(http, { author: "stuck", content: "never finishes in time" }).catch((error: Error) => error);
    await server.waitForEvent("request", (line) => line.method === "POST");
    server.kill("SIGTERM");
    await server.waitForEvent("signal-received");
    const started = performance.now();
    server.kill("SIGTERM");
    expect(await server.exited).toBe(1);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe("startup", () => {
  async function closedPort(): Promise<number> {
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const { port } = probe;
    probe.stop(true);
    return port;
  }

  test("an unreachable MongoDB stops startup within the timeout, saying what was tried and what to do", async () => {
    const port = await closedPort();
    await using server = ServerProcess.spawn({
      MONGODB_URI: `mongodb://feed:s3cret@127.0.0.1:${port}/social_network`,
      MONGODB_CONNECT_TIMEOUT_MS: "500",
    });
    const started = performance.now();
    expect(await server.exited).toBe(1);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(server.stderr).toContain(`could not reach MongoDB at mongodb://feed:****@127.0.0.1:${port}/social_network within 500 ms`);
    expect(server.stderr).toContain("bun run dev");
    expect(server.stderr).not.toContain("s3cret");
    expect(server.logs.some((line) => line.event === "listening")).toBe(false);
  });

  test("a standalone mongod stops startup, saying change streams need a replica set and how to fix it", async () => {
    // A replica set cannot play a standalone server, so this test always uses its own emulator in that role.
    await using standalone = await startEmulator({ standalone: true });
    await using server = ServerProcess.spawn({ MONGODB_URI: withDatabase(standalone.uri, "social_network") });
    expect(await server.exited).toBe(1);
    expect(server.stderr).toContain("is a standalone server, but change streams need a replica set");
    expect(server.stderr).toContain("--replSet rs0");
    expect(server.stderr).toContain("rs.initiate()");
    expect(server.logs.some((line) => line.event === "listening")).toBe(false);
  });

  test("a bad configuration stops startup naming every problem, before anything listens", async () => {
    await using server = ServerProcess.spawn({ MONGODB_URI: "postgres://nope", PORT: "http", FEED_HISTORY_SIZE: "0", LOG_LEVEL: "chatty" });
    expect(await server.exited).toBe(2);
    for (const name of [
      "MONGODB_URI (--mongodb-uri)",
      "PORT (--port) must be a whole number",
      "FEED_HISTORY_SIZE (--history-size) must be at least 1",
      "LOG_LEVEL (--log-level)",
    ]) {
      expect(server.stderr).toContain(name);
    }
    expect(server.logs).toEqual([]);
  });

  test("an unknown flag is refused with a usage hint", async () => {
    await using server = ServerProcess.spawn({ MONGODB_URI: mongo.uri(database) }, ["bun", "src/index.ts"], ["--colour", "blue"]);
    expect(await server.exited).toBe(2);
    expect(server.stderr).toContain("--colour");
    expect(server.stderr).toContain("--help");
  });

  test("--health-check exits 0 while a server answers on its port, 1 when none does (the Dockerfile's HEALTHCHECK)", async () => {
    await using server = ServerProcess.spawn({ MONGODB_URI: mongo.uri(database) });
    const port = new URL((await server.listening()).http).port;
    await using live = ServerProcess.spawn({}, ["bun", "src/index.ts"], ["--health-check", "--port", port]);
    expect(await live.exited).toBe(0);
    server.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    await using dead = ServerProcess.spawn({}, ["bun", "src/index.ts"], ["--health-check", "--port", port]);
    expect(await dead.exited).toBe(1);
  });

  test("--help lists every setting with its variable and default", async () => {
    await using server = ServerProcess.spawn({}, ["bun", "src/index.ts"], ["--help"]);
    expect(await server.exited).toBe(0);
    const help = server.logs.map((line) => line.msg).join("\n");
    for (const text of [
      "--port",
      "PORT",
      "--mongodb-uri",
      "MONGODB_URI",
      "mongodb://localhost:27017/social_network",
      "--send-buffer-limit",
    ])
      expect(help).toContain(text);
  });

  test("CLI flags override environment variables", async () => {
    const database = uniqueDatabase("flags");
    await using server = ServerProcess.spawn(
      { MONGODB_URI: "mongodb://127.0.0.1:1/wrong", LOG_LEVEL: "error" },
      ["bun", "src/index.ts"],
      ["--mongodb-uri", mongo.uri(database), "--log-level", "info"],
    );
    const listening = await server.waitForEvent("listening");
    expect(listening.database).toBe(database);
    server.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  });
});
