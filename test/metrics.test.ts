// Defends: GET /metrics is valid Prometheus text, every name is mongo_feed_*, no label names a connection, user or raw path, and the counters move as posts flow and clients are closed.
import { expect, test } from "bun:test";
import { FeedClient } from "./support/feed-client.ts";
import { useMongo } from "./support/harness.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { scrape, seriesValue } from "./support/prometheus-text.ts";
import { postJson, startTestFeed } from "./support/test-feed.ts";

const mongo = useMongo();

/** Every label our own metrics may carry; each has a bounded set of values. */
const LABELS = new Set(["type", "operation", "reason", "code", "outcome", "route", "method", "status", "le"]);

test("metrics are valid, bounded, and move with the traffic", async () => {
  await using feed = await startTestFeed(mongo.uri(uniqueDatabase("metrics")));
  const before = await scrape(feed.http);
  for (const [name, family] of before) {
    expect(name).toStartWith("mongo_feed_");
    if (!name.startsWith("mongo_feed_nodejs_") && !name.startsWith("mongo_feed_process_")) expect(family.type).not.toBe("SUMMARY");
  }
  for (const name of ["http_request_duration_seconds", "commit_to_publish_seconds", "broadcast_duration_seconds"]) {
    expect(before.get(`mongo_feed_${name}`)?.type).toBe("HISTOGRAM");
  }

  const clients = await Promise.all([1, 2, 3].map(() => FeedClient.connect(feed.ws)));
  const ids: string[] = [];
  for (let n = 0; n < 5; n++)
    ids.push(((await (await postJson(feed.http, { author: "ada", content: `m${n}` })).json()) as { id: string }).id);
  await fetch(`${feed.http}/posts/${ids[0]}`, {
    method: "PATCH",
    headers: { "Content-Type": "application/json" },
    body: '{"content":"edited"}',
  });
  await fetch(`${feed.http}/posts/${ids[1]}`, { method: "DELETE" });
  await Promise.all(clients.map((client) => client.until((frames) => frames.length >= 7)));
  const late = await FeedClient.connect(
    `${feed.ws}?since=${clients[0]!.frames[2]!.type === "insert" ? clients[0]!.frames[2]!.position : ""}`,
  );
  await late.until((frames) => frames.length >= 4);
  const refused = await FeedClient.connect(`${feed.ws}?colour=blue`);
  expect((await refused.closed).code).toBe(4400);

  const during = await scrape(feed.http);
  const grew = (name: string, labels: Record<string, string> = {}) => seriesValue(during, name, labels) - seriesValue(before, name, labels);
  expect(seriesValue(during, "mongo_feed_connections")).toBe(4);
  expect(grew("mongo_feed_change_events_total", { operation: "insert" })).toBe(5);
  expect(grew("mongo_feed_change_events_total", { operation: "update" })).toBe(1);
  expect(grew("mongo_feed_change_events_total", { operation: "delete" })).toBe(1);
  expect(grew("mongo_feed_frames_sent_total", { type: "insert" })).toBe(5 * 3 + 2);
  expect(grew("mongo_feed_frames_sent_total", { type: "update" })).toBe(3 + 1);
  expect(grew("mongo_feed_frames_sent_total", { type: "delete" })).toBe(3 + 1);
  expect(grew("mongo_feed_bytes_sent_total")).toBeGreaterThan(0);
  expect(grew("mongo_feed_replays_total", { outcome: "replayed" })).toBe(1);
  expect(grew("mongo_feed_server_closes_total", { code: "4400" })).toBe(1);
  expect(grew("mongo_feed_http_requests_total", { method: "POST", route: "/posts", status: "201" })).toBe(5);
  expect(grew("mongo_feed_http_requests_total", { method: "PATCH", route: "/posts/:id", status: "200" })).toBe(1);
  expect(grew("mongo_feed_http_request_duration_seconds", { route: "/posts" })).toBe(5);
  expect(grew("mongo_feed_commit_to_publish_seconds")).toBe(7);
  expect(grew("mongo_feed_broadcast_duration_seconds")).toBe(7);
  expect(seriesValue(during, "mongo_feed_history_events")).toBe(seriesValue(before, "mongo_feed_history_events") + 7);

  // A request for a path that does not exist is counted under one label, never its own path.
  await fetch(`${feed.http}/random-${crypto.randomUUID()}`);
  for (const client of [...clients, late]) {
    client.close();
    await client.closed;
  }
  await feed.observed.waitFor("socket-closed", (event) => event.connections === 0);
  const after = await scrape(feed.http);
  expect(seriesValue(after, "mongo_feed_connections")).toBe(0);
  expect(seriesValue(after, "mongo_feed_http_requests_total", { method: "GET", route: "unmatched", status: "404" })).toBe(1);
  for (const [name, family] of after) {
    if (name.startsWith("mongo_feed_nodejs_") || name.startsWith("mongo_feed_process_")) continue;
    for (const series of family.metrics) for (const label of Object.keys(series.labels ?? {})) expect(LABELS).toContain(label);
  }
});
