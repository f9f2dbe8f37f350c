// Defends: the emulator times out idle cursors like mongod, never one a getMore waits on.
import { expect, test } from "bun:test";
import { Long } from "bson";
import { ArrayCursor, CURSOR_IDLE_TIMEOUT_MS, CursorRegistry, type Cursor } from "./cursors.ts";
import { CommandError } from "./errors.ts";

test("kills cursors idle for longer than the cursor timeout, but not one a getMore waits on", () => {
  const registry = new CursorRegistry();
  const idle = registry.register(new ArrayCursor("feed.posts", [{ _id: 1 }]));
  const waiting: Cursor = {
    id: Long.ZERO,
    ns: "feed.posts",
    isChangeStream: true,
    busy: true,
    next: () => ({ docs: [], exhausted: false }),
    kill: () => {},
  };
  const busy = registry.register(waiting);
  registry.reapIdle(Date.now() + CURSOR_IDLE_TIMEOUT_MS + 1);
  expect(() => registry.get(idle)).toThrow(CommandError);
  expect(registry.get(busy)).toBe(waiting);
});
