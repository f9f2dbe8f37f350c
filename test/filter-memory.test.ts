// Defends issue 19: distinct filters cost bounded memory, and give it back. A filter holds at most
// 100 values per parameter (4400 / 400 beyond, tested in filters.test.ts); its topic is a short
// digest (Bun keeps a copy of every topic name); sockets with the same filter share one copy of
// it; and once no socket holds a filter, nothing of it stays in the index.
import { expect, test } from "bun:test";
import { heapStats } from "bun:jsc";
import { FilterIndex } from "../src/feed/filter-index.ts";
import type { FeedFilter } from "../src/protocol/filter.ts";

/** The largest filter a 16 KB URL allows: 100 authors of 60 characters and 30 authorIds of 200, as the query parser makes them. */
function largestFilter(n: number): FeedFilter {
  const strings = (count: number, length: number, fill: string) =>
    Array.from({ length: count }, (_, a) => `${n}-${a}-`.padEnd(length, fill).slice(0)).sort();
  return { author: strings(100, 60, "a"), authorId: strings(30, 200, "i") };
}

const heapUsed = () => {
  Bun.gc(true);
  return heapStats().heapSize;
};

test("a distinct filter of the largest size holds under 40 KiB (its strings included), and all of it is returned when its sockets leave", () => {
  const index = new FilterIndex("posts");
  const FILTERS = 2_000;
  const baseline = heapUsed();
  const subscriptions = Array.from({ length: FILTERS }, (_, n) => index.join(largestFilter(n)));
  const held = heapUsed() - baseline;
  const perFilter = held / FILTERS;
  console.log(`one distinct filter of the largest size holds ${(perFilter / 1024).toFixed(1)} KiB in the index`);
  expect(perFilter).toBeLessThan(40 * 1024);
  for (const subscription of subscriptions) expect(subscription.topic.length).toBeLessThan(40);

  for (const subscription of subscriptions) index.leave(subscription);
  subscriptions.length = 0;
  expect(index.size).toBe(0);
  const left = heapUsed() - baseline;
  console.log(`after every socket left: ${(left / 1024).toFixed(0)} KiB still held`);
  expect(left).toBeLessThan(held / 20);
});

test("sockets with the same filter share one subscription, and the last to leave removes it", () => {
  const index = new FilterIndex("posts");
  const first = index.join(largestFilter(1));
  const second = index.join(largestFilter(1));
  expect(second).toBe(first);
  expect(first.sockets).toBe(2);
  index.leave(first);
  expect(index.size).toBe(1);
  index.leave(second);
  expect(index.size).toBe(0);
  expect([...index.topics()]).toEqual([]);
});
