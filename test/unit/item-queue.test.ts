// Defends: the client's async iterator hands out every item once, in order, whether it was pushed before or
// while the consumer waited, and ends once: nothing pushed after the end is handed out.
import { expect, test } from "bun:test";
import { ItemQueue } from "../../src/client/item-queue.ts";

type Item = { n: number };

test("items pushed before the consumer asks are handed out in order", async () => {
  const queue = new ItemQueue<Item>();
  queue.push({ n: 1 });
  queue.push({ n: 2 });
  const items = queue.iterate();
  expect(await items.next()).toEqual({ value: { n: 1 }, done: false });
  expect(await items.next()).toEqual({ value: { n: 2 }, done: false });
});

test("a consumer waiting gets the next item pushed", async () => {
  const queue = new ItemQueue<Item>();
  const items = queue.iterate();
  const next = items.next();
  queue.push({ n: 1 });
  queue.push({ n: 2 });
  expect(await next).toEqual({ value: { n: 1 }, done: false });
  expect(await items.next()).toEqual({ value: { n: 2 }, done: false });
});

test("ending finishes a waiting consumer, after the items already queued", async () => {
  const queue = new ItemQueue<Item>();
  const items = queue.iterate();
  const waiting = items.next();
  queue.end();
  expect(await waiting).toEqual({ value: undefined, done: true });

  const other = new ItemQueue<Item>();
  other.push({ n: 1 });
  other.end();
  const rest = other.iterate();
  expect(await rest.next()).toEqual({ value: { n: 1 }, done: false });
  expect(await rest.next()).toEqual({ value: undefined, done: true });
});

test("nothing pushed after the end is handed out", async () => {
  const queue = new ItemQueue<Item>();
  queue.end();
  queue.push({ n: 1 });
  expect(await queue.iterate().next()).toEqual({ value: undefined, done: true });
});

test("a consumer that stops (break in for await) ends the queue", async () => {
  const queue = new ItemQueue<Item>();
  queue.push({ n: 1 });
  queue.push({ n: 2 });
  const seen: number[] = [];
  for await (const item of { [Symbol.asyncIterator]: () => queue.iterate() }) {
    seen.push(item.n);
    break;
  }
  queue.push({ n: 3 });
  expect(seen).toEqual([1]);
  const items = queue.iterate();
  expect(await items.next()).toEqual({ value: { n: 2 }, done: false });
  expect(await items.next()).toEqual({ value: undefined, done: true });
});
