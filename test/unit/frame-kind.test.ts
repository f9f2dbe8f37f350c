// Defends: each change becomes exactly the frame each filter needs for its map to equal the filtered list, and the index finds those filters without scanning them all.
import { describe, expect, test } from "bun:test";
import type { PostChange, RoutingKeys, Side } from "../../src/feed/feed-event.ts";
import { FilterIndex } from "../../src/feed/filter-index.ts";
import { compileFilter, type FrameKind, frameKindFor } from "../../src/feed/frame-kind.ts";
import type { FeedFilter } from "../../src/protocol/filter.ts";

const id = "6650c5d2e4b0a1b2c3d4e5f6";
const other = "6650c5d2e4b0a1b2c3d4e5f7";
const keys = (author: string): RoutingKeys => ({ id, author });
const image = (author: string) => ({ post: { id, author, content: "c", createdAt: "2026-11-29T17:00:00.000Z" }, keys: keys(author) });

function change(operation: PostChange["operation"], before: Side<RoutingKeys>, after: string | "absent"): PostChange {
  return { kind: "change", operation, position: "82", time: 0n, id, before, after: after === "absent" ? "absent" : image(after) };
}

describe("frameKindFor", () => {
  const cases: [string, PostChange, FeedFilter, FrameKind | undefined][] = [
    ["an insert reaches everyone", change("insert", "absent", "ada"), {}, "insert"],
    ["an insert reaches its author's filter", change("insert", "absent", "ada"), { author: ["ada"] }, "insert"],
    ["an insert misses other authors", change("insert", "absent", "ada"), { author: ["bob"] }, undefined],
    ["an insert misses types=update", change("insert", "absent", "ada"), { types: ["update"] }, undefined],
    ["an edit is an update where the post stays", change("update", keys("ada"), "ada"), { author: ["ada"] }, "update"],
    ["an author change leaves the old author's view", change("update", keys("ada"), "bob"), { author: ["ada"] }, "leave"],
    ["an author change enters the new author's view", change("update", keys("ada"), "bob"), { author: ["bob"] }, "enter"],
    ["an author change is an update for both authors together", change("update", keys("ada"), "bob"), { author: ["ada", "bob"] }, "update"],
    ["a broken shape leaves even the unfiltered view", change("update", keys("ada"), "absent"), {}, "leave"],
    ["a gained shape enters the unfiltered view", change("update", "absent", "ada"), {}, "enter"],
    ["types=update decides enter and leave", change("update", keys("ada"), "bob"), { author: ["bob"], types: ["update"] }, "enter"],
    ["types=insert gets no enter", change("update", keys("ada"), "bob"), { author: ["bob"], types: ["insert"] }, undefined],
    ["a delete reaches the view that held the post", change("delete", keys("ada"), "absent"), { author: ["ada"] }, "delete"],
    ["a delete misses views that did not", change("delete", keys("ada"), "absent"), { author: ["bob"] }, undefined],
    [
      "a delete without pre-image reaches every view that may have held it",
      change("delete", "unknown", "absent"),
      { author: ["bob"] },
      "delete",
    ],
    ["but not an id filter for other posts", change("delete", "unknown", "absent"), { id: [other] }, undefined],
    ["an update without pre-image that matches now is an update", change("update", "unknown", "ada"), { author: ["ada"] }, "update"],
    ["an update without pre-image that does not match now leaves", change("update", "unknown", "ada"), { author: ["bob"] }, "leave"],
    ["an id filter gets its post's changes", change("update", keys("ada"), "ada"), { id: [id] }, "update"],
    ["different parameters combine with AND", change("insert", "absent", "ada"), { author: ["ada"], id: [other] }, undefined],
  ];
  for (const [name, given, filter, expected] of cases) {
    test(`${name}: ${expected ?? "nothing"}`, () => expect(frameKindFor(given, compileFilter(filter))).toBe(expected));
  }
});

describe("FilterIndex", () => {
  test("sockets with the same filter share one subscription, which goes with the last of them", () => {
    const index = new FilterIndex("posts");
    const first = index.join({ author: ["ada"] });
    const second = index.join({ author: ["ada"] });
    expect(second).toBe(first);
    expect(index.size).toBe(1);
    index.leave(first);
    expect(index.size).toBe(1);
    index.leave(second);
    expect(index.size).toBe(0);
    expect([...index.candidates(change("insert", "absent", "ada"))]).toEqual([]);
  });

  test("a change finds the open filters and those indexed under its keys, not the others", () => {
    const index = new FilterIndex("posts");
    const everything = index.join({});
    const ada = index.join({ author: ["ada"] });
    const bob = index.join({ author: ["bob"] });
    const post = index.join({ id: [id] });
    const otherPost = index.join({ id: [other] });
    const topics = (found: Iterable<{ topic: string }>) => new Set([...found].map((entry) => entry.topic));
    expect(topics(index.candidates(change("insert", "absent", "ada")))).toEqual(topics([everything, ada, post]));
    expect(topics(index.candidates(change("update", keys("ada"), "bob")))).toEqual(topics([everything, ada, bob, post]));
    expect(topics(index.candidates(change("delete", "unknown", "absent")))).toEqual(topics([everything, ada, bob, post]));
    expect(topics(index.candidates(change("update", keys("ada"), "bob")))).not.toContain(otherPost.topic);
  });

  test("topics are canonical: the same filter always names the same topic, the unfiltered one stays feed:posts", () => {
    const index = new FilterIndex("posts");
    expect(index.join({}).topic).toBe("feed:posts");
    // A filter is named by a digest of its canonical form (issue 19: a 15 KB name per topic, copied by Bun, cost memory).
    const topic = index.join({ author: ["ada", "bob"] }).topic;
    expect(topic).toMatch(/^feed:posts#[\w-]{22}$/);
    expect(new FilterIndex("posts").join({ author: ["ada", "bob"] }).topic).toBe(topic);
    expect(index.join({ author: ["ada"] }).topic).not.toBe(topic);
    expect(index.join({ authorId: ["ada", "bob"] }).topic).not.toBe(topic);
  });
});
