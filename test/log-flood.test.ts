// Defends issue 19: logs cannot be flooded. Refusals a client can repeat at will (429s, connection
// caps, slow-client closes, failed key fetches…) write one line per kind per interval, then one
// line with how many more there were; the metrics still count every one.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { logObservations } from "../src/observability/log-observations.ts";
import { createLogger } from "../src/observability/logger.ts";
import { Observations } from "../src/observability/observations.ts";
import { startMongoTarget, uniqueDatabase, type MongoTarget } from "./support/mongo-target.ts";
import { scrape } from "./support/prometheus-text.ts";
import { postJson, startTestFeed, type LogEntry } from "./support/test-feed.ts";

describe("the log throttle", () => {
  const slowClose = { type: "slow-client-closed", bufferedBytes: 2_000_000, limit: 1_048_576, dropped: false } as const;

  function logging(intervalMs: number) {
    const lines: LogEntry[] = [];
    let onLine = () => {};
    const observations = new Observations();
    logObservations(
      observations,
      createLogger("debug", (line) => {
        lines.push(JSON.parse(line) as LogEntry);
        onLine();
      }),
      intervalMs,
    );
    const nextLine = () => new Promise<void>((resolve) => (onLine = resolve));
    return { observations, lines, nextLine };
  }

  test("a thousand slow-client closes write one line, then one line with the count", async () => {
    const { observations, lines, nextLine } = logging(50);
    for (let n = 0; n < 1_000; n++) observations.emit(slowClose);
    expect(lines).toEqual([expect.objectContaining({ level: "warn", event: "slow-client-closed", bufferedBytes: 2_000_000 })]);
    const summary = nextLine();
    await summary;
    expect(lines[1]).toMatchObject({ level: "warn", event: "slow-client-closed", repeated: 999, intervalSeconds: 0.05 });
    expect(lines[1]!.msg).toContain("and 999 more like it");
    observations.emit(slowClose); // a new interval: a line of its own
    expect(lines).toHaveLength(3);
    expect(lines[2]).not.toHaveProperty("repeated");
  });

  test("each kind has its own interval, and kinds a client cannot repeat are never throttled", () => {
    const { observations, lines } = logging(60_000);
    observations.emit(slowClose);
    observations.emit({ type: "write-rate-limited", retryAfterSeconds: 1 });
    for (let attempt = 1; attempt <= 3; attempt++) observations.emit({ type: "stream-down", error: new Error("x"), attempt, delayMs: 10 });
    expect(lines.map((line) => line.event)).toEqual([
      "slow-client-closed",
      "write-rate-limited",
      "stream-down",
      "stream-down",
      "stream-down",
    ]);
  });
});

describe("end to end", () => {
  let mongo: MongoTarget;
  beforeAll(async () => {
    mongo = await startMongoTarget();
  });
  afterAll(() => mongo?.[Symbol.asyncDispose]());

  test("50 rate-limited writes: one log line, and the metrics count all 49 refusals", async () => {
    await using feed = await startTestFeed(mongo.uri(uniqueDatabase("log_flood")), {
      WRITE_RATE_LIMIT_PER_MINUTE: "1",
      WRITE_RATE_LIMIT_BURST: "1",
    });
    const statuses = [];
    for (let n = 0; n < 50; n++) statuses.push((await postJson(feed.http, { author: "flood", content: `${n}` })).status);
    expect(statuses.filter((status) => status === 429)).toHaveLength(49);
    expect(feed.logs.filter((line) => line.event === "write-rate-limited")).toHaveLength(1);
    expect(feed.observed.of("write-rate-limited")).toHaveLength(49);
    const refused = (await scrape(feed.http))
      .get("mongo_feed_http_requests_total")!
      .metrics.find((metric) => metric.labels?.status === "429");
    expect(Number(refused?.value)).toBe(49);
  });
});
