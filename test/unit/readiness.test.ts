// Readiness tells an election ("no primary: writes wait, the feed still streams") from MongoDB unreachable.
import { expect, test } from "bun:test";
import { Readiness, type StreamProgress } from "../../src/health/readiness.ts";
import type { MongoReachability } from "../../src/mongo/reachability.ts";
import { type Observation, Observations } from "../../src/observability/observations.ts";

function judge(deployment: { reachable: boolean; hasPrimary: boolean }, stream: Partial<StreamProgress> = {}) {
  const observations = new Observations();
  const seen: Observation[] = [];
  observations.subscribe((observation) => seen.push(observation));
  const feed: StreamProgress = { isUp: true, lastError: undefined, progressedAt: performance.now(), ...stream };
  const reachability = { ...deployment, problem: "127.0.0.1:1: connection refused" } as unknown as MongoReachability;
  const readiness = new Readiness({ feed, reachability, observations, stalledAfterMs: 1_500 });
  return { verdict: readiness.check(), seen };
}

test("ready with a primary", () => {
  expect(judge({ reachable: true, hasPrimary: true }).verdict).toEqual({ ready: true, primary: true });
});

test("still ready without a primary while the stream flows (from a secondary): writes wait, the feed streams", () => {
  const { verdict, seen } = judge({ reachable: true, hasPrimary: false });
  expect(verdict).toEqual({ ready: true, primary: false });
  expect(seen).toEqual([{ type: "readiness-changed", ready: true, primary: false }]);
});

test("not ready, for want of a primary, when the stream is the one waiting for it", () => {
  expect(judge({ reachable: true, hasPrimary: false }, { isUp: false }).verdict).toMatchObject({ ready: false, reason: "no-primary" });
  const stalled = judge({ reachable: true, hasPrimary: false }, { progressedAt: performance.now() - 5_000 }).verdict;
  expect(stalled).toMatchObject({ ready: false, reason: "no-primary" });
});

test("MongoDB unreachable when no member answers at all", () => {
  expect(judge({ reachable: false, hasPrimary: false }).verdict).toMatchObject({ ready: false, reason: "mongodb-unreachable" });
});

test("with a primary, a stalled stream is the stream's own problem", () => {
  const { verdict } = judge({ reachable: true, hasPrimary: true }, { progressedAt: performance.now() - 5_000 });
  expect(verdict).toMatchObject({ ready: false, reason: "change-stream-stalled" });
});
