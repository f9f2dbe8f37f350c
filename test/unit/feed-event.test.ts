// Defends: a change document maps to exactly one feed event, without MongoDB: the post as of the change, what it was before, and what is skipped and why.
import { describe, expect, test } from "bun:test";
import { ObjectId, Timestamp } from "mongodb";
import { type PostsChange, toFeedEvent } from "../../src/feed/feed-event.ts";

const _id = new ObjectId("6650c5d2e4b0a1b2c3d4e5f6");
const id = _id.toHexString();
const clusterTime = new Timestamp({ t: 1_780_000_000, i: 7 });
const time = (1_780_000_000n << 32n) | 7n;
const position = "826A1B2C800000000702";
const createdAt = new Date("2026-11-29T17:00:00.000Z");
const updatedAt = new Date("2026-11-30T08:00:00.000Z");
const stored = (author: string, content = "hello") => ({ _id, author, content, createdAt });
const view = (author: string, content = "hello") => ({ id, author, content, createdAt: createdAt.toISOString() });

const changeOf = (operationType: string, fields: Record<string, unknown> = {}) =>
  ({
    _id: { _data: position },
    operationType,
    clusterTime,
    documentKey: { _id },
    ns: { db: "d", coll: "posts" },
    ...fields,
  }) as unknown as PostsChange;

describe("toFeedEvent", () => {
  test("an insert of a post: its view and routing keys, nothing before", () => {
    expect(toFeedEvent(changeOf("insert", { fullDocument: stored("ada") }), "as-of-change")).toEqual({
      kind: "change",
      operation: "insert",
      position,
      time,
      id,
      before: "absent",
      after: { post: view("ada"), keys: { id, author: "ada" } },
    });
  });

  test("an insert without the post shape is skipped, naming every problem", () => {
    expect(toFeedEvent(changeOf("insert", { fullDocument: { _id, author: 42, createdAt } }), "as-of-change")).toEqual({
      kind: "skip",
      position,
      time,
      documentKey: id,
      problems: [expect.stringMatching(/^author: /), expect.stringMatching(/^content: /)],
    });
  });

  test("an update carries the post-image, with updatedAt, and who held the post before", () => {
    const event = toFeedEvent(
      changeOf("update", { fullDocument: { ...stored("bob", "edited"), updatedAt }, fullDocumentBeforeChange: stored("ada") }),
      "as-of-change",
    );
    expect(event).toEqual({
      kind: "change",
      operation: "update",
      position,
      time,
      id,
      before: { id, author: "ada" },
      after: { post: { ...view("bob", "edited"), updatedAt: updatedAt.toISOString() }, keys: { id, author: "bob" } },
    });
  });

  test("a replace is an update; one that breaks the post shape leaves, one that gains it enters", () => {
    const broken = toFeedEvent(
      changeOf("replace", { fullDocument: { _id, note: "no longer a post" }, fullDocumentBeforeChange: stored("ada") }),
      "as-of-change",
    );
    expect(broken).toMatchObject({ kind: "change", operation: "update", before: { id, author: "ada" }, after: "absent" });
    const gained = toFeedEvent(
      changeOf("replace", { fullDocument: stored("ada"), fullDocumentBeforeChange: { _id, note: "x" } }),
      "as-of-change",
    );
    expect(gained).toMatchObject({ kind: "change", operation: "update", before: "absent", after: { keys: { id, author: "ada" } } });
  });

  test("a delete routes by its pre-image, or is unknown without one", () => {
    expect(toFeedEvent(changeOf("delete", { fullDocumentBeforeChange: stored("ada") }), "as-of-change")).toMatchObject({
      kind: "change",
      operation: "delete",
      before: { id, author: "ada" },
      after: "absent",
    });
    expect(toFeedEvent(changeOf("delete", { fullDocumentBeforeChange: null }), "as-of-change")).toMatchObject({
      operation: "delete",
      before: "unknown",
    });
    expect(toFeedEvent(changeOf("delete"), "lookup")).toMatchObject({ operation: "delete", before: "unknown" });
  });

  test("an update whose post-image MongoDB no longer has is images-missing; by lookup, a vanished post has left", () => {
    expect(toFeedEvent(changeOf("update", { fullDocument: null, fullDocumentBeforeChange: stored("ada") }), "as-of-change")).toEqual({
      kind: "images-missing",
      position,
      time,
      id,
    });
    expect(toFeedEvent(changeOf("update", { fullDocument: null }), "lookup")).toMatchObject({
      operation: "update",
      before: "unknown",
      after: "absent",
    });
  });

  test("changes to documents that are no post on either side, or whose _id is not an ObjectId, are skipped", () => {
    expect(
      toFeedEvent(changeOf("update", { fullDocument: { _id, x: 2 }, fullDocumentBeforeChange: { _id, x: 1 } }), "as-of-change"),
    ).toMatchObject({
      kind: "skip",
    });
    expect(toFeedEvent(changeOf("delete", { documentKey: { _id: "settings" } }), "lookup")).toMatchObject({
      kind: "skip",
      documentKey: "settings",
    });
  });

  test("an invalidate is the end of the stream", () => {
    const change = { _id: { _data: position }, operationType: "invalidate", clusterTime } as unknown as PostsChange;
    expect(toFeedEvent(change, "as-of-change")).toEqual({ kind: "invalidate", position, time });
  });
});
