// Defends: the emulator's TTL monitor removes expired documents like mongod's: in periodic passes, as ordinary deletes a change stream sees.
import { expect, test } from "bun:test";
import { MongoClient, type ChangeStreamDocument, type Collection, type Document } from "mongodb";
import { startEmulator } from "./index.ts";

const HOUR = 3_600_000;

/** A change stream of the collection's deletes, already open: `take(n)` resolves with the next n deleted `_id`s. */
async function watchDeletes(items: Collection) {
  const stream = items.watch<Document, ChangeStreamDocument>([{ $match: { operationType: "delete" } }], { maxAwaitTimeMS: 50 });
  await stream.tryNext(); // the aggregate is sent: every delete from now on is seen
  return {
    async take(count: number): Promise<unknown[]> {
      const ids: unknown[] = [];
      while (ids.length < count) {
        const change = await stream.next();
        if (change.operationType === "delete") ids.push(change.documentKey._id);
      }
      return ids;
    },
    close: () => stream.close(),
  };
}

test("removes documents whose date is older than expireAfterSeconds, and only those", async () => {
  await using emulator = await startEmulator({ ttlMonitorIntervalMs: 20 });
  const client = new MongoClient(emulator.uri);
  try {
    const items = client.db("feed").collection("items");
    await items.createIndex({ createdAt: 1 }, { expireAfterSeconds: 3600 });
    const old = new Date(Date.now() - 2 * HOUR);
    const deletes = await watchDeletes(items);
    await items.insertMany([
      { _id: "expired", createdAt: old },
      { _id: "expired-array", createdAt: [new Date(), old] }, // an array expires by its earliest date
      { _id: "fresh", createdAt: new Date() },
      { _id: "not-a-date", createdAt: "2000-01-01" },
      { _id: "no-date" },
    ] as never[]);
    expect(new Set(await deletes.take(2))).toEqual(new Set(["expired", "expired-array"]));
    await deletes.close();
    const left = await items.find({}, { sort: { _id: 1 } }).toArray();
    expect(left.map((doc) => doc._id)).toEqual(["fresh", "no-date", "not-a-date"] as never[]);
  } finally {
    await client.close();
  }
});

test("a partial TTL index expires only the documents matching its filter", async () => {
  await using emulator = await startEmulator({ ttlMonitorIntervalMs: 20 });
  const client = new MongoClient(emulator.uri);
  try {
    const items = client.db("feed").collection("items");
    await items.createIndex({ at: 1 }, { expireAfterSeconds: 0, partialFilterExpression: { temporary: true } });
    const past = new Date(Date.now() - HOUR);
    const deletes = await watchDeletes(items);
    await items.insertMany([
      { _id: "kept", at: past, temporary: false },
      { _id: "gone", at: past, temporary: true },
    ] as never[]);
    expect(await deletes.take(1)).toEqual(["gone"]);
    await deletes.close();
    expect(await items.countDocuments({ _id: "kept" as never })).toBe(1);
  } finally {
    await client.close();
  }
});

test("runs once a minute by default, and ttlMonitorSleepSecs set at run time applies at once", async () => {
  await using emulator = await startEmulator();
  const client = new MongoClient(emulator.uri);
  try {
    const admin = client.db("admin");
    expect(await admin.command({ getParameter: 1, ttlMonitorSleepSecs: 1 })).toMatchObject({ ttlMonitorSleepSecs: 60 });
    const items = client.db("feed").collection("items");
    await items.createIndex({ at: 1 }, { expireAfterSeconds: 1 });
    const deletes = await watchDeletes(items);
    await items.insertOne({ _id: "old", at: new Date(Date.now() - HOUR) } as never);
    // Without this the document would stay for up to a minute.
    expect(await admin.command({ setParameter: 1, ttlMonitorSleepSecs: 1 })).toMatchObject({ was: 60, ok: 1 });
    expect(await deletes.take(1)).toEqual(["old"]);
    await deletes.close();
    const refused = await admin.command({ setParameter: 1, ttlMonitorSleepSecs: 0 }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 2 });
  } finally {
    await client.close();
  }
});
