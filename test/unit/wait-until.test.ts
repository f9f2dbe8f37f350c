// Defends: the one way tests wait: a condition checked at once and again on each change, a value returned as soon as it holds, and a failure that names what was awaited (never a silent hang).
import { expect, test } from "bun:test";
import { Changes, waitUntil } from "../support/wait-until.ts";

test("resolves at once when the condition already holds, with its value", async () => {
  expect(await waitUntil(new Changes(), "a value", () => 42)).toBe(42);
});

test("looks again on each change and resolves with the first value that is not undefined, null or false", async () => {
  const changes = new Changes();
  const arrived: number[] = [];
  const looked: number[] = [];
  const waiting = waitUntil(changes, "a number above 1", () => {
    looked.push(arrived.length);
    return arrived.find((n) => n > 1);
  });
  for (const n of [0, 1, 2, 3]) {
    arrived.push(n);
    changes.changed();
  }
  expect(await waiting).toBe(2);
  expect(looked).toEqual([0, 1, 2, 3]); // once at the start, then once per change until it held
});

test("rejects with what the check throws (e.g. the socket closed first)", async () => {
  const changes = new Changes();
  let closed = false;
  const waiting = waitUntil(changes, "a frame", () => {
    if (closed) throw new Error("socket closed while waiting for a frame");
    return false;
  });
  closed = true;
  changes.changed();
  await expect(waiting).rejects.toThrow("socket closed while waiting for a frame");
});

test("times out with a message naming what was awaited and what was seen instead", async () => {
  const waiting = waitUntil(new Changes(), "3 posts", () => false, { timeoutMs: 10, seen: () => "got 1 frames" });
  await expect(waiting).rejects.toThrow("timed out after 10 ms waiting for 3 posts; got 1 frames");
});

test("stops listening once settled: later changes run no check", async () => {
  const changes = new Changes();
  let checks = 0;
  await waitUntil(changes, "anything", () => ++checks);
  changes.changed();
  expect(checks).toBe(1);
});
