// Defends: the emulator's unique indexes hold exactly the documents mongod's would: partial and sparse ones skip the rest.
import { expect, test } from "bun:test";
import { MongoClient, MongoServerError, type Collection, type Db } from "mongodb";
import { startEmulator } from "./index.ts";

async function withCollection(run: (items: Collection, db: Db) => Promise<void>) {
  await using emulator = await startEmulator();
  const client = new MongoClient(emulator.uri);
  try {
    await run(client.db("feed").collection("items"), client.db("feed"));
  } finally {
    await client.close();
  }
}

const codeOf = (error: unknown) => (error instanceof MongoServerError ? error.code : error);

test("a unique index without a filter counts a missing field as null, so two documents without it collide", async () => {
  await withCollection(async (items) => {
    await items.createIndex({ key: 1 }, { unique: true });
    await items.insertOne({ n: 1 });
    const error = await items.insertOne({ n: 2 }).catch((e: unknown) => e);
    expect(codeOf(error)).toBe(11000);
    expect((error as MongoServerError).message).toContain("index: key_1 dup key: { key: null }");
  });
});

test("a partial unique index holds only the documents matching its filter", async () => {
  await withCollection(async (items) => {
    await items.createIndex({ owner: 1, key: 1 }, { unique: true, partialFilterExpression: { key: { $exists: true } } });
    // Neither has `key`: neither is in the index, so they never collide.
    await items.insertMany([{ owner: "a" }, { owner: "a" }]);
    await items.insertOne({ owner: "a", key: "k1" });
    await items.insertOne({ owner: "b", key: "k1" });
    const error = await items.insertOne({ owner: "a", key: "k1" }).catch((e: unknown) => e);
    expect(codeOf(error)).toBe(11000);
    expect((error as MongoServerError).keyValue).toEqual({ owner: "a", key: "k1" });
    // An update that brings a document into the filter is checked too.
    const { insertedId } = await items.insertOne({ owner: "b" });
    expect(codeOf(await items.updateOne({ _id: insertedId }, { $set: { key: "k1" } }).catch((e: unknown) => e))).toBe(11000);
    expect(await items.countDocuments()).toBe(5);
  });
});

test("a partial filter on a value range leaves documents outside it free to repeat", async () => {
  await withCollection(async (items) => {
    await items.createIndex({ name: 1 }, { unique: true, partialFilterExpression: { rank: { $gte: 5 } } });
    await items.insertMany([
      { name: "x", rank: 1 },
      { name: "x", rank: 2 },
      { name: "x", rank: 5 },
    ]);
    expect(codeOf(await items.insertOne({ name: "x", rank: 9 }).catch((e: unknown) => e))).toBe(11000);
  });
});

test("creating a partial unique index checks only the documents it will hold", async () => {
  await withCollection(async (items) => {
    await items.insertMany([{ n: 1 }, { n: 2 }, { key: "a" }]);
    await items.createIndex({ key: 1 }, { unique: true, partialFilterExpression: { key: { $type: "string" } } });
    await items.insertOne({ key: "b" });
    await items.insertOne({ key: "c" });
    expect(codeOf(await items.createIndex({ n: 1 }, { unique: true }).catch((e: unknown) => e))).toBe(11000);
  });
});

test("a sparse unique index skips documents that lack every key field", async () => {
  await withCollection(async (items) => {
    await items.createIndex({ key: 1 }, { unique: true, sparse: true });
    await items.insertMany([{ n: 1 }, { n: 2 }, { key: "a" }]);
    expect(codeOf(await items.insertOne({ key: "a" }).catch((e: unknown) => e))).toBe(11000);
    // An explicit null is a value: it is indexed.
    await items.insertOne({ key: null });
    expect(codeOf(await items.insertOne({ key: null }).catch((e: unknown) => e))).toBe(11000);
  });
});

test("refuses the index options mongod refuses", async () => {
  await withCollection(async (items, db) => {
    const attempt = (options: Record<string, unknown>) => items.createIndex({ key: 1 }, options).catch((e: unknown) => e);
    expect(codeOf(await attempt({ sparse: true, partialFilterExpression: { key: { $exists: true } } }))).toBe(67);
    expect(codeOf(await attempt({ partialFilterExpression: { key: { $ne: 1 } } }))).toBe(67);
    expect(codeOf(await attempt({ partialFilterExpression: { key: { $exists: false } } }))).toBe(67);
    expect(codeOf(await attempt({ expireAfterSeconds: -1 }))).toBe(67);
    expect(await db.listCollections({ name: "items" }).toArray()).toEqual([]); // nothing was created, not even the collection
  });
});
