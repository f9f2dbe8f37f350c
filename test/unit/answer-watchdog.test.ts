// Defends: a change stream whose next answer never comes is given up on (and replaced by the feed),
// sooner once a new primary is known; an answer that comes is passed through untouched.
import { expect, test } from "bun:test";
import { AnswerWatchdog, StreamStuck } from "../../src/feed/answer-watchdog.ts";

test("passes an answer through", async () => {
  const watchdog = new AnswerWatchdog({ stuckAfterMs: 1_000, graceMs: 10 });
  expect(await watchdog.watch(Promise.resolve("change"))).toBe("change");
});

test("passes a failure through, as it is", async () => {
  const watchdog = new AnswerWatchdog({ stuckAfterMs: 1_000, graceMs: 10 });
  const failure = new Error("resumable");
  expect(watchdog.watch(Promise.reject(failure))).rejects.toBe(failure);
});

test("gives up on an answer that does not come within stuckAfterMs", async () => {
  const watchdog = new AnswerWatchdog({ stuckAfterMs: 20, graceMs: 5 });
  const never = new Promise<never>(() => {});
  expect(watchdog.watch(never)).rejects.toMatchObject({ name: "StreamStuck", ms: 20 });
});

test("once a new primary is known, gives up after graceMs instead", async () => {
  const watchdog = new AnswerWatchdog({ stuckAfterMs: 60_000, graceMs: 5 });
  const waiting = watchdog.watch(new Promise<never>(() => {}));
  watchdog.primaryElected();
  const error = await waiting.catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(StreamStuck);
  expect((error as StreamStuck).ms).toBe(5);
});

test("a primary elected with no answer awaited changes nothing for the next one", async () => {
  const watchdog = new AnswerWatchdog({ stuckAfterMs: 1_000, graceMs: 1 });
  watchdog.primaryElected();
  expect(await watchdog.watch(Promise.resolve(1))).toBe(1);
});
