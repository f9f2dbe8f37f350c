// Defends: the send-buffer budget's arithmetic: past half of it the heaviest sockets are closed (while the
// sockets closing hold at most half), past the whole of it the heaviest are dropped, a reader holding nothing
// is never chosen, and a closed socket's bytes count until Bun lets them go. The end-to-end guarantee is in
// test/send-budget.test.ts.
import { describe, expect, test } from "bun:test";
import { closingHoldMs, SendBudget } from "../../src/feed/send-budget.ts";

/** A budget on a clock the test moves. */
function budgetOf(budget: number, holdMs = 1_000) {
  const clock = { now: 0 };
  return { budget: new SendBudget(budget, holdMs, () => clock.now), clock };
}

const sockets = (bytes: Record<string, number>) => Object.entries(bytes).map(([socket, held]) => ({ socket, bytes: held }));

describe("relieve", () => {
  test("chooses nobody while the open sockets hold at most half the budget", () => {
    const { budget } = budgetOf(1_000);
    expect(budget.relieve(sockets({ a: 300, b: 200 }))).toEqual({ close: [], drop: [] });
  });

  test("past half, closes the heaviest first until the total is back under half", () => {
    const { budget } = budgetOf(1_000);
    expect(budget.relieve(sockets({ light: 100, heavy: 300, middle: 200 }))).toEqual({ close: ["heavy"], drop: [] });
  });

  test("past the whole budget, drops the heaviest until it fits, then closes the next", () => {
    const { budget } = budgetOf(1_000);
    expect(budget.relieve(sockets({ a: 600, b: 400, c: 200, d: 50 }))).toEqual({ close: ["b"], drop: ["a"] });
  });

  test("never chooses a socket that holds nothing", () => {
    const { budget } = budgetOf(100);
    expect(budget.relieve(sockets({ reader: 0, stalled: 40, slow: 20 }))).toEqual({ close: ["stalled"], drop: [] });
    expect(budget.relieve(sockets({ reader: 0, other: 0 }))).toEqual({ close: [], drop: [] });
  });

  test("does not close one socket holding more than half, nor drop it while the total is within the budget", () => {
    const { budget } = budgetOf(100);
    expect(budget.relieve(sockets({ stalled: 90 }))).toEqual({ close: [], drop: [] });
    expect(budget.relieve(sockets({ stalled: 101 }))).toEqual({ close: [], drop: ["stalled"] });
  });

  test("closes no more than the sockets already closing leave room for", () => {
    const { budget } = budgetOf(1_000);
    budget.closing(400);
    // 300 more closing would pass half (500): the heaviest is not closed, and neither is any lighter one after it.
    expect(budget.relieve(sockets({ a: 300, b: 50 }))).toEqual({ close: [], drop: [] });
  });

  test("drops what closing cannot take once the total passes the budget", () => {
    const { budget } = budgetOf(1_000);
    budget.closing(500);
    expect(budget.relieve(sockets({ a: 400, b: 200 }))).toEqual({ close: [], drop: ["a"] });
  });
});

describe("closing bytes", () => {
  test("count until the hold ends, then are let go in order", () => {
    const { budget, clock } = budgetOf(1_000, 100);
    budget.closing(300);
    clock.now = 50;
    budget.closing(200);
    expect(budget.closingBytes).toBe(500);
    clock.now = 99;
    expect(budget.closingBytes).toBe(500);
    clock.now = 100;
    expect(budget.closingBytes).toBe(200);
    clock.now = 150;
    expect(budget.closingBytes).toBe(0);
  });

  test("a socket closed holding nothing holds nothing", () => {
    const { budget } = budgetOf(1_000);
    budget.closing(0);
    expect(budget.closingBytes).toBe(0);
  });

  test("leave room to close a socket only while closing it keeps them within half the budget", () => {
    const { budget } = budgetOf(1_000);
    expect(budget.hasRoomToClose(500)).toBe(true);
    budget.closing(400);
    expect(budget.hasRoomToClose(100)).toBe(true);
    expect(budget.hasRoomToClose(101)).toBe(false);
  });
});

describe("when to measure", () => {
  test("queued bytes ask for a measurement once they may pass half the budget", () => {
    const { budget } = budgetOf(1_000);
    expect(budget.queued(400)).toBe(false);
    expect(budget.queued(100)).toBe(false);
    expect(budget.queued(1)).toBe(true);
  });

  test("a measurement replaces the estimate, and closing bytes count on top of it", () => {
    const { budget } = budgetOf(1_000);
    budget.queued(900);
    expect(budget.measured(100)).toBe(false);
    expect(budget.queued(100)).toBe(false);
    budget.closing(301);
    expect(budget.queued(0)).toBe(true);
    expect(budget.measured(199)).toBe(false);
    expect(budget.measured(200)).toBe(true);
  });

  test("relieve records what stays open as the new measurement", () => {
    const { budget } = budgetOf(1_000);
    expect(budget.relieve(sockets({ a: 450, b: 300 }))).toEqual({ close: ["a"], drop: [] });
    // 300 stays open; the 450 of the socket closing count once the caller reports them with `closing`.
    expect(budget.queued(0)).toBe(false);
    budget.closing(450);
    expect(budget.queued(0)).toBe(true);
  });
});

describe("closingHoldMs", () => {
  test("is uWS's ping timeout for the idle timeout plus its 4-second tick", () => {
    expect(closingHoldMs(0)).toBe(8_000);
    expect(closingHoldMs(16)).toBe(12_000);
    expect(closingHoldMs(120)).toBe(20_000);
    expect(closingHoldMs(960)).toBe(20_000);
  });
});
