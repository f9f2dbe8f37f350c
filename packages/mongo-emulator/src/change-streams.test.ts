// Defends: the emulator's change streams behave like a 7.0 replica set's (events, tokens, resume, invalidate).
import { expect, test } from "bun:test";
import { MongoClient, MongoServerError, Timestamp, type ChangeStreamDocument, type ResumeToken } from "mongodb";
import { startEmulator } from "./index.ts";

type Doc = { _id: number; v?: number };

function documentKey(event: ChangeStreamDocument): unknown {
  return "documentKey" in event ? event.documentKey : undefined;
}

/** Cluster time encoded in a resume token, as the feed server decodes it. */
function tokenTime(token: ResumeToken): Timestamp {
  const data = (token as { _data: string })._data;
  expect(data).toMatch(/^82[0-9A-F]{16}/);
  return Timestamp.fromBits(parseInt(data.slice(10, 18), 16), parseInt(data.slice(2, 10), 16));
}

test("streams each write as its own event with a time-prefixed token shared by every stream", async () => {
  await using emulator = await startEmulator();
  const writer = new MongoClient(emulator.uri);
  const reader = new MongoClient(emulator.uri);
  try {
    const coll = writer.db("feed").collection<Doc>("posts");
    const a = reader.db("feed").collection<Doc>("posts").watch([], { maxAwaitTimeMS: 10 });
    const b = reader.db("feed").watch([], { maxAwaitTimeMS: 10 });
    await a.tryNext();
    await b.tryNext();
    await coll.insertMany([{ _id: 1 }, { _id: 2 }]);
    await coll.updateOne({ _id: 1 }, { $set: { v: 1 } });
    await coll.deleteOne({ _id: 2 });
    const eventsA: ChangeStreamDocument[] = [];
    const eventsB: ChangeStreamDocument[] = [];
    for (let i = 0; i < 4; i++) eventsA.push(await a.next());
    for (let i = 0; i < 4; i++) eventsB.push(await b.next());
    expect(eventsA.map((e) => e.operationType)).toEqual(["insert", "insert", "update", "delete"]);
    expect(eventsB.map((e) => e._id)).toEqual(eventsA.map((e) => e._id));
    const times = eventsA.map((e) => tokenTime(e._id));
    for (let i = 0; i < 4; i++) expect(times[i]!.equals((eventsA[i] as { clusterTime: Timestamp }).clusterTime)).toBe(true);
    for (let i = 1; i < 4; i++) expect(times[i]!.greaterThan(times[i - 1]!)).toBe(true);
    const update = eventsA[2] as ChangeStreamDocument & { updateDescription: unknown };
    expect(update.updateDescription).toEqual({ updatedFields: { v: 1 }, removedFields: [], truncatedArrays: [] });
    await a.close();
    await b.close();
  } finally {
    await writer.close();
    await reader.close();
  }
});

test("resumes after any token with exactly the later events", async () => {
  await using emulator = await startEmulator();
  const client = new MongoClient(emulator.uri);
  try {
    const coll = client.db("feed").collection<Doc>("posts");
    const stream = coll.watch([], { maxAwaitTimeMS: 10 });
    await stream.tryNext();
    const highWaterMark = stream.resumeToken;
    expect(tokenTime(highWaterMark).isZero()).toBe(false);
    await coll.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
    const first = await stream.next();
    await stream.close();
    const fromMark = coll.watch([], { resumeAfter: highWaterMark });
    expect(documentKey(await fromMark.next())).toEqual({ _id: 1 });
    await fromMark.close();
    const fromEvent = coll.watch([], { startAfter: first._id });
    expect(documentKey(await fromEvent.next())).toEqual({ _id: 2 });
    await fromEvent.close();
  } finally {
    await client.close();
  }
});

test("a getMore returns as soon as an event is committed", async () => {
  await using emulator = await startEmulator();
  const client = new MongoClient(emulator.uri, { monitorCommands: true });
  try {
    const coll = client.db("feed").collection<Doc>("posts");
    const getMoreSent = Promise.withResolvers<void>();
    client.on("commandStarted", (e) => e.commandName === "getMore" && getMoreSent.resolve());
    const stream = coll.watch([], { maxAwaitTimeMS: 10_000 });
    const next = stream.next();
    await getMoreSent.promise;
    const started = performance.now();
    await coll.insertOne({ _id: 1 });
    expect((await next).operationType).toBe("insert");
    expect(performance.now() - started).toBeLessThan(500);
    await stream.close();
  } finally {
    await client.close();
  }
});

test("fails with ChangeStreamHistoryLost when resuming before the retained history", async () => {
  await using emulator = await startEmulator({ historyLimit: 10 });
  const client = new MongoClient(emulator.uri);
  try {
    const coll = client.db("feed").collection<Doc>("posts");
    await coll.insertOne({ _id: 0 });
    const stream = coll.watch([], { maxAwaitTimeMS: 10 });
    await stream.tryNext();
    const old = stream.resumeToken;
    await stream.close();
    await coll.insertMany(Array.from({ length: 30 }, (_, i) => ({ _id: i + 1 })));
    const error = await coll
      .watch([], { resumeAfter: old })
      .tryNext()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(286);
    expect((error as MongoServerError).codeName).toBe("ChangeStreamHistoryLost");
  } finally {
    await client.close();
  }
});

test("a cursor killed from another client fails its next getMore with CursorNotFound and the driver resumes", async () => {
  await using emulator = await startEmulator();
  const client = new MongoClient(emulator.uri, { monitorCommands: true });
  const admin = new MongoClient(emulator.uri);
  try {
    const coll = client.db("feed").collection<Doc>("posts");
    const failures: number[] = [];
    client.on("commandFailed", (e) => failures.push(Number((e.failure as MongoServerError).code)));
    let cursorId: unknown;
    client.on("commandSucceeded", (e) => {
      if (e.commandName === "aggregate") cursorId = (e.reply as { cursor: { id: unknown } }).cursor.id;
    });
    const stream = coll.watch([], { maxAwaitTimeMS: 10 });
    await stream.tryNext();
    expect(cursorId).toBeDefined();
    await admin.db("feed").command({ killCursors: "posts", cursors: [cursorId] });
    await admin.db("feed").collection<Doc>("posts").insertOne({ _id: 7 });
    const event = await stream.next();
    expect(documentKey(event)).toEqual({ _id: 7 });
    expect(failures).toContain(43);
    await stream.close();
  } finally {
    await client.close();
    await admin.close();
  }
});
