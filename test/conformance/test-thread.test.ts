// Defends: runOnThread operations run in order beside the test, and waitForThread reports their first failure.
import { expect, test } from "bun:test";
import { TestThread } from "./test-thread";

test("runs scheduled work in order without blocking the scheduler", async () => {
  const thread = new TestThread();
  const order: string[] = [];
  const gate = Promise.withResolvers<void>();
  thread.run(async () => {
    await gate.promise;
    order.push("first");
  });
  thread.run(async () => {
    order.push("second");
  });
  order.push("scheduled");
  gate.resolve();
  await thread.finish();
  expect(order).toEqual(["scheduled", "first", "second"]);
});

test("finish rejects with the first failure, and work after it is dropped", async () => {
  const thread = new TestThread();
  let ranAfterFailure = false;
  thread.run(async () => {
    throw new Error("boom");
  });
  thread.run(async () => {
    ranAfterFailure = true;
  });
  await expect(thread.finish()).rejects.toThrow("boom");
  expect(ranAfterFailure).toBe(false);
});
