// Defends: the replay history gives exactly the frames after a position, or says why the client must resync.
import { describe, expect, test } from "bun:test";
import { FeedHistory } from "../src/feed/history.ts";
import { snapshotPosition } from "../src/feed/position.ts";

/** A position like a real resume token: 0x82, 8 bytes of cluster time, then event details. */
const at = (seconds: number, increment: number) => `${snapshotPosition((BigInt(seconds) << 32n) | BigInt(increment))}2B0204`;
const entry = (seconds: number, increment: number) => ({
  position: at(seconds, increment),
  time: (BigInt(seconds) << 32n) | BigInt(increment),
  kind: "insert" as const,
  keys: { id: `post-${increment}`, author: "ada" },
  frame: `frame ${seconds}.${increment}`,
});

function historyWith(count: number, limits = { size: 100, ttlMs: 60_000 }, clock = { now: 1_000_000 }) {
  const history = new FeedHistory(limits, () => clock.now);
  history.reset({ position: at(100, 0), time: (100n << 32n) | 0n });
  for (let n = 1; n <= count; n++) history.append(entry(100, n));
  return { history, clock };
}

describe("FeedHistory", () => {
  test("replays the frames after a known position, and all of them after the floor", () => {
    const { history } = historyWith(4);
    expect(history.framesAfter(at(100, 2))).toEqual(["frame 100.3", "frame 100.4"]);
    expect(history.framesAfter(at(100, 4))).toEqual([]);
    expect(history.framesAfter(at(100, 0))).toEqual(["frame 100.1", "frame 100.2", "frame 100.3", "frame 100.4"]);
  });

  test("replays the frames after a snapshot's cluster time", () => {
    const { history } = historyWith(4);
    expect(history.framesAfter(snapshotPosition((100n << 32n) | 2n))).toEqual(["frame 100.3", "frame 100.4"]);
    expect(history.framesAfter(snapshotPosition((100n << 32n) | 9n))).toEqual([]);
  });

  test("evicts by size and moves the floor, so older positions expire", () => {
    const { history } = historyWith(5, { size: 3, ttlMs: 60_000 });
    expect(history.size).toBe(3);
    expect(history.floor).toEqual({ position: at(100, 2), time: (100n << 32n) | 2n });
    expect(history.framesAfter(at(100, 1))).toBe("position-expired");
    expect(history.framesAfter(at(100, 2))).toEqual(["frame 100.3", "frame 100.4", "frame 100.5"]);
    expect(history.framesAfter(snapshotPosition((100n << 32n) | 1n))).toBe("position-expired");
  });

  test("evicts by age", () => {
    const { history, clock } = historyWith(2, { size: 100, ttlMs: 1_000 });
    clock.now += 1_001;
    history.append(entry(101, 1));
    expect(history.size).toBe(1);
    expect(history.framesAfter(at(100, 1))).toBe("position-expired");
    expect(history.framesAfter(at(100, 2))).toEqual(["frame 101.1"]);
  });

  test("calls anything that is not one of its positions unknown", () => {
    const { history } = historyWith(3);
    expect(history.framesAfter("garbage")).toBe("position-unknown");
    expect(history.framesAfter(`${at(100, 2)}FF`)).toBe("position-unknown");
    expect(new FeedHistory({ size: 1, ttlMs: 1 }).framesAfter(at(1, 1))).toBe("position-unknown");
  });

  test("keeps lookups right after many evictions and compactions", () => {
    const { history } = historyWith(0, { size: 10, ttlMs: 60_000 });
    for (let n = 1; n <= 5_000; n++) history.append(entry(100, n));
    expect(history.framesAfter(at(100, 4_997))).toEqual(["frame 100.4998", "frame 100.4999", "frame 100.5000"]);
    expect(history.framesAfter(at(100, 4_990))).toEqual(Array.from({ length: 10 }, (_, n) => `frame 100.${4_991 + n}`));
    expect(history.framesAfter(at(100, 4_989))).toBe("position-expired");
    expect(history.newestPosition).toBe(at(100, 5_000));
  });
});
