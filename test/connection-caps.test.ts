// Defends: one client cannot fill the server's connections or descriptors: caps per address and in total refuse before the upgrade, and everyone else (MongoDB included) keeps working.
import { expect, test } from "bun:test";
import { FeedClient } from "./support/feed-client.ts";
import { useMongo } from "./support/harness.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { handshake, rawRequest } from "./support/raw-http.ts";
import { ServerProcess } from "./support/server-process.ts";
import { postJson, startTestFeed } from "./support/test-feed.ts";

const mongo = useMongo();

/** A client at `address`, as the trusted proxy in front of the server reports it. */
const from = (address: string) => ({ headers: { "X-Forwarded-For": address } });

test("past its per-address cap a client gets 429 and past the total cap everyone gets 503, while the others carry on", async () => {
  await using feed = await startTestFeed(mongo.uri(uniqueDatabase("caps")), {
    TRUST_PROXY: "true",
    WS_MAX_CONNECTIONS: "8",
    WS_MAX_CONNECTIONS_PER_IP: "3",
  });
  const greedy = await Promise.all([1, 2, 3].map(() => FeedClient.connect(feed.ws, from("203.0.113.7"))));

  // The fourth from that address is refused before the upgrade, and its HTTP connection is closed.
  const refusal = await rawRequest(feed.http, handshake("/", ["X-Forwarded-For: 203.0.113.7"]));
  expect(refusal.status).toBe(429);
  expect(refusal.closed).toBe(true);
  expect(refusal.headers["content-type"]).toBe("application/problem+json");
  expect(refusal.headers["retry-after"]).toMatch(/^\d+$/);
  expect(refusal.headers.connection).toBe("close");
  expect(JSON.parse(refusal.body)).toMatchObject({ status: 429, title: "Too Many Requests", detail: expect.stringContaining("at most 3") });
  expect(feed.observed.of("connection-refused")).toEqual([
    { type: "connection-refused", cap: "per-address", limit: 3, address: "203.0.113.7" },
  ]);
  await expect(FeedClient.connect(feed.ws, from("203.0.113.7"))).rejects.toThrow();

  // Other addresses still connect, up to the total.
  const others = await Promise.all([1, 2, 3, 4, 5].map((n) => FeedClient.connect(feed.ws, from(`198.51.100.${n}`))));
  const full = await rawRequest(feed.http, handshake("/", ["X-Forwarded-For: 192.0.2.1"]));
  expect(full.status).toBe(503);
  expect(JSON.parse(full.body)).toMatchObject({ status: 503, detail: expect.stringContaining("another instance") });
  expect(full.headers.connection).toBe("close");

  // Everything else works for everyone meanwhile: HTTP, writes, and delivery to every socket.
  expect((await fetch(`${feed.http}/health/live`)).status).toBe(200);
  const ready = (await (await fetch(`${feed.http}/health/ready`)).json()) as { connections: number };
  expect(ready.connections).toBe(8);
  const response = await postJson(feed.http, { author: "a", content: "while the caps are reached" });
  expect(response.status).toBe(201);
  for (const client of [...greedy, ...others]) await client.untilInserts(1);

  // A slot is given back when its socket closes (the close callback, not the close call).
  const closed = feed.observed.next("socket-closed");
  greedy[0]!.close();
  await closed;
  const again = await FeedClient.connect(feed.ws, from("203.0.113.7"));
  await expect(FeedClient.connect(feed.ws, from("192.0.2.1"))).rejects.toThrow(); // total still 8
  for (const client of [...greedy.slice(1), ...others, again]) client.close();
});

test("without a trusted proxy every connection counts for the peer address", async () => {
  await using feed = await startTestFeed(mongo.uri(uniqueDatabase("caps_peer")), { WS_MAX_CONNECTIONS_PER_IP: "2" });
  const two = await Promise.all([1, 2].map((n) => FeedClient.connect(feed.ws, from(`198.51.100.${n}`))));
  const refusal = await rawRequest(feed.http, handshake("/", ["X-Forwarded-For: 198.51.100.3"]));
  expect(refusal.status).toBe(429);
  expect(feed.observed.of("connection-refused")[0]).toMatchObject({ cap: "per-address", address: "127.0.0.1" });
  for (const client of two) client.close();
});

test("the default cap sits below the descriptor limit: a flood of sockets is refused and MongoDB keeps its connections", async () => {
  // A real child process with a small open-file limit, and every default: the cap comes from the limit.
  await using server = ServerProcess.spawn({ MONGODB_URI: mongo.uri(uniqueDatabase("caps_fd")) }, [
    "sh",
    "-c",
    "ulimit -n 512 && exec bun src/index.ts",
  ]);
  const { http, ws } = await server.listening(30_000);
  const limits = await server.waitForEvent("limits");
  expect(limits).toMatchObject({ openFileLimit: 512, reservedDescriptors: 256, wsMaxConnections: 256 });

  // More sockets than the process has descriptors, in waves (a flood of idle plain TCP connections
  // is a known limitation: see docs/operations.md).
  const held: FeedClient[] = [];
  let refused = 0;
  for (let wave = 0; wave < 12; wave++) {
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => FeedClient.connect(ws)));
    for (const result of results) {
      if (result.status === "fulfilled") held.push(result.value);
      else refused++;
    }
  }
  expect(held.length).toBe(256);
  expect(refused).toBe(600 - 256);

  // MongoDB still gets the descriptors it needs: parallel writes grow the driver's pool.
  expect((await fetch(`${http}/health/live`)).status).toBe(200);
  const statuses = await Promise.all(Array.from({ length: 20 }, (_, n) => postJson(http, { author: "a", content: `flooded ${n}` })));
  expect(statuses.map((response) => response.status)).toEqual(Array(20).fill(201));
  await Promise.all([held[0]!, held.at(-1)!].map((client) => client.untilInserts(20, 30_000)));
  expect((await fetch(`${http}/health/ready`)).status).toBe(200);
  expect(server.logs.filter((line) => line.event === "stream-down")).toEqual([]);
  for (const client of held) client.close();
}, 90_000);
