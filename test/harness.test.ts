// Defends: the harness's promise to every test file: a feed declared with useFeed serves its scope's tests on a database of its own, and once they end everything it started is closed, newest first (its clients before its server).
import { describe, expect, test } from "bun:test";
import type { CloseInfo, FeedClient } from "./support/feed-client.ts";
import { useFeed, useMongo } from "./support/harness.ts";
import { postJson } from "./support/test-feed.ts";

const mongo = useMongo();
let readTooEarly: unknown;
const seen: { http?: string; client?: FeedClient; closed?: Promise<CloseInfo> } = {};

describe("a feed declared in a describe", () => {
  const feed = useFeed({ mongo, database: "harness" });
  const second = useFeed({ database: feed });
  try {
    void feed.http; // at declaration, before any hook ran
  } catch (error) {
    readTooEarly = error;
  }

  test("serves on a database of its own, with a driver, clients and a second instance on it", async () => {
    expect(feed.uri).toBe(mongo.uri(feed.database));
    expect(second.database).toBe(feed.database);
    const client = await feed.connect();
    const response = await postJson(second.http, { author: "ada", content: "through the second instance" });
    expect(response.status).toBe(201);
    await client.untilInserts(1);
    expect(await feed.posts.countDocuments()).toBe(1);
    expect(feed.driver.db().databaseName).toBe(feed.database);
    Object.assign(seen, { http: feed.http, client, closed: client.closed });
  });
});

test("once the describe's tests end, its clients were closed before its server, which no longer listens", async () => {
  // A client the server closed would see 1001 (going away); this one was closed from its own side first.
  expect((await seen.closed!).code).not.toBe(1001);
  expect(seen.client!.socket.readyState).toBe(WebSocket.CLOSED);
  await expect(fetch(`${seen.http}/posts`)).rejects.toThrow();
});

test("a fixture read before its hooks ran says so, by name", () => {
  expect(readTooEarly).toBeInstanceOf(Error);
  expect((readTooEarly as Error).message).toBe("useFeed: it starts in beforeAll; use it inside tests and later hooks");
});
