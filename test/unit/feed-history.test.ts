// Defends: the replay history gives exactly the frames after a position, or says why the client must resync.
import { describe, expect, test } from "bun:test";
import type { PostChange, RoutingKeys } from "../../src/feed/feed-event.ts";
import { FeedHistory } from "../../src/feed/history.ts";
import { snapshotPosition } from "../../src/feed/position.ts";
import { compileFilter } from "../../src/feed/frame-kind.ts";
import type { FeedFilter } from "../../src/protocol/filter.ts";

/** A position like a real resume token: 0x82, 8 bytes of cluster time, then event details. */
const at = (seconds: number, increment: number) => `${snapshotPosition((BigInt(seconds) << 32n) | BigInt(increment))}2B0204`;
const idOf = (n: number) => n.toString(16).padStart(24, "0");

/** A change at (seconds, increment) of post `id` (by default the increment), its content naming the time. */
function change(
  seconds: number,
  increment: number,
  {
    operation = "insert",
    author = "ada",
    id = idOf(increment),
    before,
  }: Partial<Pick<PostChange, "operation" | "id">> & { author?: string; before?: RoutingKeys | "absent" } = {},
): PostChange {
  const post = { id, author, content: `${seconds}.${increment}`, createdAt: "2026-11-29T17:00:00.000Z" };
  const after = operation === "delete" ? ("absent" as const) : { post, keys: { id, author } };
  return {
    kind: "change",
    operation,
    position: at(seconds, increment),
    time: (BigInt(seconds) << 32n) | BigInt(increment),
    id,
    before: before ?? (operation === "insert" ? "absent" : { id, author }),
    after,
  };
}
const entry = (seconds: number, increment: number) => change(seconds, increment);

/** What a replay holds, readably: `frame <content>` for posts, `<type> <id>` for removals. */
function replay(history: FeedHistory, since: string, filter: FeedFilter = {}) {
  const frames = history.framesAfter(since, compileFilter(filter));
  if (typeof frames === "string") return frames;
  return frames.map(({ kind, frame }) => {
    const parsed = JSON.parse(frame) as { type: string; post?: { content: string }; id?: string };
    expect(parsed.type).toBe(kind);
    return parsed.type === "insert"
      ? `frame ${parsed.post!.content}`
      : parsed.post
        ? `${parsed.type} ${parsed.post.content}`
        : `${parsed.type} ${parsed.id}`;
  });
}

function historyWith(count: number, limits = { size: 100, ttlMs: 60_000 }, clock = { now: 1_000_000 }) {
  const history = new FeedHistory(limits, () => clock.now);
  history.reset({ position: at(100, 0), time: (100n << 32n) | 0n });
  for (let n = 1; n <= count; n++) history.append(entry(100, n));
  return { history, clock };
}

describe("FeedHistory", () => {
  test("replays the frames after a known position, and all of them after the floor", () => {
    const { history } = historyWith(4);
    expect(replay(history, at(100, 2))).toEqual(["frame 100.3", "frame 100.4"]);
    expect(replay(history, at(100, 4))).toEqual([]);
    expect(replay(history, at(100, 0))).toEqual(["frame 100.1", "frame 100.2", "frame 100.3", "frame 100.4"]);
  });

  test("replays the frames after a snapshot's cluster time", () => {
    const { history } = historyWith(4);
    expect(replay(history, snapshotPosition((100n << 32n) | 2n))).toEqual(["frame 100.3", "frame 100.4"]);
    expect(replay(history, snapshotPosition((100n << 32n) | 9n))).toEqual([]);
  });

  test("evicts by size and moves the floor, so older positions expire", () => {
    const { history } = historyWith(5, { size: 3, ttlMs: 60_000 });
    expect(history.size).toBe(3);
    expect(history.floor).toEqual({ position: at(100, 2), time: (100n << 32n) | 2n });
    expect(replay(history, at(100, 1))).toBe("position-expired");
    expect(replay(history, at(100, 2))).toEqual(["frame 100.3", "frame 100.4", "frame 100.5"]);
    expect(replay(history, snapshotPosition((100n << 32n) | 1n))).toBe("position-expired");
  });

  test("evicts by age", () => {
    const { history, clock } = historyWith(2, { size: 100, ttlMs: 1_000 });
    clock.now += 1_001;
    history.append(entry(101, 1));
    expect(history.size).toBe(1);
    expect(replay(history, at(100, 1))).toBe("position-expired");
    expect(replay(history, at(100, 2))).toEqual(["frame 101.1"]);
  });

  test("calls anything that is not one of its positions unknown", () => {
    const { history } = historyWith(3);
    expect(replay(history, "garbage")).toBe("position-unknown");
    expect(replay(history, `${at(100, 2)}FF`)).toBe("position-unknown");
    expect(replay(new FeedHistory({ size: 1, ttlMs: 1 }), at(1, 1))).toBe("position-unknown");
  });

  test("keeps lookups right after many evictions and compactions", () => {
    const { history } = historyWith(0, { size: 10, ttlMs: 60_000 });
    for (let n = 1; n <= 5_000; n++) history.append(entry(100, n));
    expect(replay(history, at(100, 4_997))).toEqual(["frame 100.4998", "frame 100.4999", "frame 100.5000"]);
    expect(replay(history, at(100, 4_990))).toEqual(Array.from({ length: 10 }, (_, n) => `frame 100.${4_991 + n}`));
    expect(replay(history, at(100, 4_989))).toBe("position-expired");
    expect(history.newestPosition).toBe(at(100, 5_000));
  });

  test("replays for a filter exactly the frames live delivery gives it: enter and leave as posts start and stop matching", () => {
    const { history } = historyWith(0);
    const post = idOf(900);
    history.append(change(100, 1, { author: "ada", id: post }));
    history.append(change(100, 2, { author: "bob" }));
    history.append(change(100, 3, { operation: "update", author: "bob", id: post, before: { id: post, author: "ada" } }));
    history.append(change(100, 4, { operation: "update", author: "ada", id: post, before: { id: post, author: "bob" } }));
    history.append(change(100, 5, { operation: "delete", author: "ada", id: post }));
    const floor = at(100, 0);
    expect(replay(history, floor, { author: ["ada"] })).toEqual(["frame 100.1", `leave ${post}`, "enter 100.4", `delete ${post}`]);
    expect(replay(history, floor, { author: ["bob"] })).toEqual(["frame 100.2", "enter 100.3", `leave ${post}`]);
    expect(replay(history, floor)).toEqual(["frame 100.1", "frame 100.2", "update 100.3", "update 100.4", `delete ${post}`]);
    expect(replay(history, floor, { id: [post], types: ["delete"] })).toEqual([`delete ${post}`]);
    expect(replay(history, at(100, 3), { author: ["ada"] })).toEqual(["enter 100.4", `delete ${post}`]);
  });
});
