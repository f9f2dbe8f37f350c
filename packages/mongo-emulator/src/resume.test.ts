// Defends: the emulator resumes change streams like a real oplog: token errors, history lost, postBatchResumeToken, startAtOperationTime, invalidate.
import { expect, test } from "bun:test";
import { MongoClient, MongoServerError, type ChangeStreamDocument, type Timestamp } from "mongodb";
import { startEmulator } from "./index.ts";

const FAST = { maxAwaitTimeMS: 10 };

async function openError(client: MongoClient, resumeAfter: unknown): Promise<MongoServerError> {
  const stream = client
    .db("feed")
    .collection("posts")
    .watch([], { ...FAST, resumeAfter });
  const error = await stream.tryNext().catch((e: unknown) => e);
  await stream.close();
  expect(error).toBeInstanceOf(MongoServerError);
  return error as MongoServerError;
}

test("rejects resume tokens it cannot interpret with the server's codes", async () => {
  await using emulator = await startEmulator();
  const client = new MongoClient(emulator.uri);
  try {
    expect((await openError(client, { _data: "not hex!" })).code).toBe(9);
    expect((await openError(client, { _data: "0102" })).code).toBe(50811);
    expect((await openError(client, { _data: "" })).code).toBe(40649);
    expect((await openError(client, { nope: 1 })).code).toBe(40647);
  } finally {
    await client.close();
  }
});

test("a token from before this emulator started is history lost", async () => {
  await using emulator = await startEmulator();
  const client = new MongoClient(emulator.uri);
  try {
    const error = await openError(client, { _data: "82000000010000000104" });
    expect(error.code).toBe(286);
  } finally {
    await client.close();
  }
});

test("postBatchResumeToken of an empty batch carries the latest cluster time", async () => {
  await using emulator = await startEmulator();
  const client = new MongoClient(emulator.uri, { monitorCommands: true });
  try {
    const tokens: string[] = [];
    client.on("commandSucceeded", (e) => {
      const cursor = (e.reply as { cursor?: { postBatchResumeToken?: { _data: string } } }).cursor;
      if (cursor?.postBatchResumeToken) tokens.push(cursor.postBatchResumeToken._data);
    });
    const coll = client.db("feed").collection("posts");
    const { operationTime } = await client.db("feed").command({ insert: "posts", documents: [{ a: 1 }] });
    const stream = coll.watch([], FAST);
    expect(await stream.tryNext()).toBeNull();
    const ts = operationTime as Timestamp;
    const expected = `82${ts.high.toString(16).toUpperCase().padStart(8, "0")}${ts.low.toString(16).toUpperCase().padStart(8, "0")}`;
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    for (const token of tokens) expect(token.slice(0, 18)).toBe(expected);
    await stream.close();
  } finally {
    await client.close();
  }
});

test("startAtOperationTime includes the write at that time", async () => {
  await using emulator = await startEmulator();
  const client = new MongoClient(emulator.uri);
  try {
    const db = client.db("feed");
    await db.collection("posts").insertOne({ _id: 1 } as never);
    const { operationTime } = await db.command({ insert: "posts", documents: [{ _id: 2 }] });
    const stream = db.collection("posts").watch([], { ...FAST, startAtOperationTime: operationTime as Timestamp });
    const event = (await stream.next()) as ChangeStreamDocument & { documentKey: unknown };
    expect(event.documentKey).toEqual({ _id: 2 });
    await stream.close();
  } finally {
    await client.close();
  }
});

test("drop invalidates a collection stream, and startAfter the invalidate continues after it", async () => {
  await using emulator = await startEmulator();
  const client = new MongoClient(emulator.uri);
  try {
    const db = client.db("feed");
    await db.createCollection("posts");
    const stream = db.collection("posts").watch([], FAST);
    await stream.tryNext();
    await db.collection("posts").drop();
    expect((await stream.next()).operationType).toBe("drop");
    const invalidate = await stream.next();
    expect(invalidate.operationType).toBe("invalidate");
    await stream.close();
    await db.collection("posts").insertOne({ _id: 5 } as never);
    const after = db.collection("posts").watch([], { ...FAST, startAfter: invalidate._id });
    const event = (await after.next()) as ChangeStreamDocument & { documentKey: unknown };
    expect(event.documentKey).toEqual({ _id: 5 });
    await after.close();
  } finally {
    await client.close();
  }
});
