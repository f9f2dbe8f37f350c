// Defends: the emulator answers CRUD commands like mongod does (writes, duplicate keys, cursors, snapshot reads).
import { expect, test } from "bun:test";
import { MongoClient, MongoServerError, ObjectId } from "mongodb";
import { startEmulator } from "./index.ts";

type Post = { _id?: number | ObjectId; title: string; tags?: string[]; n?: number };

test("inserts, finds, updates and deletes documents through the real driver", async () => {
  await using emulator = await startEmulator();
  const client = new MongoClient(emulator.uri);
  try {
    const posts = client.db("feed").collection<Post>("posts");
    const { insertedId } = await posts.insertOne({ title: "a" });
    expect(insertedId).toBeInstanceOf(ObjectId);
    await posts.insertMany([
      { _id: 2, title: "b", n: 2 },
      { _id: 3, title: "c", n: 3 },
    ]);
    expect(await posts.findOne({ _id: insertedId })).toEqual({ _id: insertedId, title: "a" });
    expect(await posts.find({ n: { $gte: 2 } }, { sort: { n: -1 }, projection: { title: 1 } }).toArray()).toEqual([
      { _id: 3, title: "c" },
      { _id: 2, title: "b" },
    ]);
    await posts.updateOne({ _id: 2 }, { $set: { title: "B" }, $push: { tags: { $each: ["x", "y", "z"], $slice: -2 } } });
    expect(await posts.findOne({ _id: 2 })).toEqual({ _id: 2, title: "B", n: 2, tags: ["y", "z"] });
    const upsert = await posts.updateOne({ _id: 9 }, { $set: { title: "new" } }, { upsert: true });
    expect(upsert.upsertedId).toBe(9);
    expect((await posts.deleteMany({ n: { $exists: true } })).deletedCount).toBe(2);
    expect(await posts.countDocuments()).toBe(2);
  } finally {
    await client.close();
  }
});

test("reports a duplicate _id like a real server", async () => {
  await using emulator = await startEmulator();
  const client = new MongoClient(emulator.uri);
  try {
    const posts = client.db("feed").collection<{ _id: number }>("posts");
    await posts.insertOne({ _id: 1 });
    const error = await posts.insertOne({ _id: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(11000);
    expect((error as MongoServerError).message).toBe("E11000 duplicate key error collection: feed.posts index: _id_ dup key: { _id: 1 }");
  } finally {
    await client.close();
  }
});

test("iterates a find cursor across getMore batches", async () => {
  await using emulator = await startEmulator();
  const client = new MongoClient(emulator.uri);
  try {
    const items = client.db("feed").collection<{ _id: number }>("items");
    await items.insertMany(Array.from({ length: 250 }, (_, i) => ({ _id: i })));
    const ids = (await items.find({}, { batchSize: 7 }).toArray()).map((d) => d._id);
    expect(ids).toEqual(Array.from({ length: 250 }, (_, i) => i));
  } finally {
    await client.close();
  }
});

test("returns atClusterTime to snapshot sessions", async () => {
  await using emulator = await startEmulator();
  const client = new MongoClient(emulator.uri);
  try {
    const items = client.db("feed").collection("items");
    await items.insertOne({ a: 1 });
    const session = client.startSession({ snapshot: true });
    expect(await items.find({}, { session }).toArray()).toHaveLength(1);
    // The driver keeps the server's atClusterTime here (internal field).
    expect((session as unknown as { snapshotTime?: unknown }).snapshotTime).toBeDefined();
    await session.endSession();
  } finally {
    await client.close();
  }
});
