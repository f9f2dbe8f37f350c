// Defends: a change document maps to exactly one feed event, without MongoDB: posts, invalidations, and what is skipped and why.
import { describe, expect, test } from "bun:test";
import { ObjectId, Timestamp } from "mongodb";
import { toFeedEvent, type PostsChange } from "../src/feed/feed-event.ts";

const id = new ObjectId("6650c5d2e4b0a1b2c3d4e5f6");
const clusterTime = new Timestamp({ t: 1_780_000_000, i: 7 });
const time = (1_780_000_000n << 32n) | 7n;
const position = "826A1B2C800000000702";
const createdAt = new Date("2026-11-29T17:00:00.000Z");

const insert = (fullDocument: Record<string, unknown>) =>
  ({
    _id: { _data: position },
    operationType: "insert",
    clusterTime,
    documentKey: { _id: id },
    fullDocument,
    ns: { db: "d", coll: "posts" },
  }) as unknown as PostsChange;

describe("toFeedEvent", () => {
  test("turns an insert of a post into an insert event with its view, time and routing keys", () => {
    expect(toFeedEvent(insert({ _id: id, author: "ada", content: "hello", createdAt }))).toEqual({
      kind: "insert",
      position,
      time,
      post: { id: id.toHexString(), author: "ada", content: "hello", createdAt: createdAt.toISOString() },
      keys: { id: id.toHexString(), author: "ada" },
    });
  });

  test("skips an insert without the post shape, naming every problem", () => {
    expect(toFeedEvent(insert({ _id: id, author: 42, createdAt }))).toEqual({
      kind: "skip",
      position,
      time,
      documentKey: id.toHexString(),
      problems: [expect.stringMatching(/^author: /), expect.stringMatching(/^content: /)],
    });
  });

  test("turns an invalidate into the end of the stream", () => {
    const change = { _id: { _data: position }, operationType: "invalidate", clusterTime } as unknown as PostsChange;
    expect(toFeedEvent(change)).toEqual({ kind: "invalidate", position, time });
  });
});
