// Defends issue 19: readiness does not blame MongoDB for this process's own busy event loop. A
// change stream's getMore answer cannot be read while the loop is held up (before the fix, by
// replays queued whole), so silence that overlaps a held-up loop is not a stall; a stream silent
// for the whole threshold after the loop came back still is.
import { expect, test } from "bun:test";
import type { MongoReachability } from "../src/mongo/reachability.ts";
import { Observations } from "../src/observability/observations.ts";
import { Readiness, type StreamProgress } from "../src/health/readiness.ts";

function readinessAt(clock: { now: number }, feed: { isUp: boolean; progressedAt: number }) {
  const observations = new Observations();
  const changes: unknown[] = [];
  observations.subscribe((seen) => void (seen.type === "readiness-changed" && changes.push(seen)));
  const readiness = new Readiness({
    feed: { lastError: undefined, ...feed } satisfies StreamProgress,
    reachability: { reachable: true, hasPrimary: true } as unknown as MongoReachability,
    observations,
    stalledAfterMs: 1_500,
    now: () => clock.now,
  });
  return { readiness, changes };
}

test("a loop held up for 2 s is not a stalled change stream", () => {
  const clock = { now: 0 };
  const feed = { isUp: true, progressedAt: 0 };
  const { readiness, changes } = readinessAt(clock, feed);
  for (; clock.now <= 1_000; clock.now += 50) expect(readiness.check()).toEqual({ ready: true, primary: true });
  clock.now = 3_000; // the loop was busy for 2 s: the getMore's answer is waiting to be read
  expect(readiness.check()).toEqual({ ready: true, primary: true });
  feed.progressedAt = 3_010; // read at the next turn
  for (clock.now = 3_050; clock.now <= 4_000; clock.now += 50) expect(readiness.check()).toEqual({ ready: true, primary: true });
  expect(changes).toEqual([]);
});

test("a stream silent for the whole threshold while the loop runs is stalled, and says how long", () => {
  const clock = { now: 0 };
  const feed = { isUp: true, progressedAt: 0 };
  const { readiness } = readinessAt(clock, feed);
  for (; clock.now <= 1_500; clock.now += 50) expect(readiness.check().ready).toBe(true);
  clock.now = 1_550;
  expect(readiness.check()).toEqual({ ready: false, reason: "change-stream-stalled", detail: "no answer from MongoDB for 1550 ms" });
});

test("after a held-up loop, a stream that stays silent is stalled once the threshold passed since the loop came back", () => {
  const clock = { now: 0 };
  const feed = { isUp: true, progressedAt: 0 };
  const { readiness } = readinessAt(clock, feed);
  readiness.check();
  clock.now = 2_000;
  expect(readiness.check().ready).toBe(true);
  for (clock.now = 2_050; clock.now <= 3_500; clock.now += 50) expect(readiness.check().ready).toBe(true);
  clock.now = 3_550;
  expect(readiness.check()).toMatchObject({ ready: false, reason: "change-stream-stalled" });
});
