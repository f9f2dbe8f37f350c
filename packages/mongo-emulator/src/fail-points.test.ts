// Defends: the emulator injects faults the way mongod test commands do, and applies retried writes once.
import { expect, test } from "bun:test";
import { MongoClient, MongoServerError } from "mongodb";
import { startEmulator } from "./index.ts";

test("failCommand fails only the named client's commands, the given number of times", async () => {
  await using emulator = await startEmulator();
  const admin = new MongoClient(emulator.uri);
  const victim = new MongoClient(emulator.uri, { appName: "victim", retryReads: false, retryWrites: false });
  const bystander = new MongoClient(emulator.uri, { appName: "bystander" });
  try {
    await admin.db("admin").command({
      configureFailPoint: "failCommand",
      mode: { times: 1 },
      data: { failCommands: ["find"], errorCode: 2, errorLabels: ["Custom"], appName: "victim" },
    });
    expect(await bystander.db("feed").collection("posts").findOne({})).toBeNull();
    const error = await victim
      .db("feed")
      .collection("posts")
      .findOne({})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(2);
    expect((error as MongoServerError).errorLabels).toEqual(["Custom"]);
    expect(await victim.db("feed").collection("posts").findOne({})).toBeNull();
  } finally {
    await Promise.all([admin.close(), victim.close(), bystander.close()]);
  }
});

test("closeConnection drops the socket and the driver retries the write", async () => {
  await using emulator = await startEmulator();
  const admin = new MongoClient(emulator.uri);
  const client = new MongoClient(emulator.uri, { appName: "flaky" });
  try {
    await client.db("feed").command({ ping: 1 });
    await admin.db("admin").command({
      configureFailPoint: "failCommand",
      mode: { times: 1 },
      data: { failCommands: ["insert"], closeConnection: true, appName: "flaky" },
    });
    await client
      .db("feed")
      .collection("posts")
      .insertOne({ _id: 1 } as never);
    expect(await admin.db("feed").collection("posts").countDocuments()).toBe(1);
  } finally {
    await Promise.all([admin.close(), client.close()]);
  }
});

test("the server labels a retryable write error RetryableWriteError when the fail point gives no labels", async () => {
  await using emulator = await startEmulator();
  const admin = new MongoClient(emulator.uri);
  const client = new MongoClient(emulator.uri, { monitorCommands: true });
  try {
    const labels: string[][] = [];
    client.on("commandFailed", (e) => labels.push((e.failure as MongoServerError).errorLabels ?? []));
    await admin.db("admin").command({
      configureFailPoint: "failCommand",
      mode: { times: 1 },
      data: { failCommands: ["insert"], errorCode: 262 },
    });
    await client
      .db("feed")
      .collection("posts")
      .insertOne({ _id: 1 } as never);
    expect(labels).toEqual([["RetryableWriteError"]]);
  } finally {
    await Promise.all([admin.close(), client.close()]);
  }
});

test("a retried write after a writeConcernError is applied once, like a retryable write", async () => {
  await using emulator = await startEmulator();
  const admin = new MongoClient(emulator.uri);
  const client = new MongoClient(emulator.uri);
  try {
    await admin.db("admin").command({
      configureFailPoint: "failCommand",
      mode: { times: 1 },
      data: { failCommands: ["insert"], writeConcernError: { code: 91, errmsg: "Replication is being shut down" } },
    });
    const result = await client.db("feed").collection<{ _id: number }>("posts").insertOne({ _id: 1 });
    expect(result.insertedId).toBe(1);
    expect(await admin.db("feed").collection("posts").countDocuments()).toBe(1);
  } finally {
    await Promise.all([admin.close(), client.close()]);
  }
});
