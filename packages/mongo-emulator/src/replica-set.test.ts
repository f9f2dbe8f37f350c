// Defends: three members of rs0 behave as mongod's do for the driver: discovery, replication with lag, write concern, roles.
import { expect, test } from "bun:test";
import { MongoClient, MongoServerError, MongoWriteConcernError } from "mongodb";
import { healthySet, ObservedClient, rawCommand, startReplicaSet } from "./replica-set-fixture.ts";

test("the driver discovers one primary and two secondaries on three ports", async () => {
  await using emulator = await startReplicaSet();
  expect(emulator.uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+\/\?replicaSet=rs0$/);
  await using client = new ObservedClient(emulator.uri);
  await client.connect();
  const servers = await client.discovered(healthySet);
  expect(new Set(servers.keys())).toEqual(new Set(emulator.members.map((m) => m.host)));
  const hello = await client.db("admin").command({ hello: 1 });
  expect(hello.hosts).toEqual(emulator.members.map((m) => m.host));
  expect(hello.setName).toBe("rs0");
  expect(hello.isWritablePrimary).toBe(true);
  expect(hello.electionId).toBeDefined();
  expect(hello.lastWrite.majorityOpTime).toBeDefined();
  expect(emulator.members.map((m) => m.state).sort()).toEqual(["PRIMARY", "SECONDARY", "SECONDARY"]);

  const status = await client.db("admin").command({ replSetGetStatus: 1 });
  expect(status).toMatchObject({ set: "rs0", myState: 1, majorityVoteCount: 2, votingMembersCount: 3, ok: 1 });
  expect(Number(status.term)).toBe(1);
  expect(status.optimes.lastCommittedOpTime.ts).toEqual(status.optimes.appliedOpTime.ts);
  expect(status.members.map((m: { name: string }) => m.name)).toEqual(emulator.members.map((m) => m.host));
  for (const member of status.members) {
    expect(member).toMatchObject({ health: 1, configVersion: 1 });
    expect(member.optime.ts).toEqual(status.optimes.appliedOpTime.ts);
    expect(member.stateStr).toBe(member.state === 1 ? "PRIMARY" : "SECONDARY");
  }
  expect(status.members.filter((m: { self?: boolean }) => m.self).map((m: { stateStr: string }) => m.stateStr)).toEqual(["PRIMARY"]);
  const config = await client.db("admin").command({ replSetGetConfig: 1 });
  expect(config.config).toMatchObject({ _id: "rs0", version: 1 });
  expect(config.config.members.map((m: { host: string }) => m.host)).toEqual(emulator.members.map((m) => m.host));
});

test("a secondary serves secondary reads from its own copy, which lags while stopReplProducer is on", async () => {
  await using emulator = await startReplicaSet();
  await using client = new MongoClient(emulator.uri);
  const posts = client.db("feed").collection("posts");
  await posts.insertOne({ _id: 1 as never, text: "replicated" });
  const secondary = emulator.members.find((m) => m.state === "SECONDARY")!;
  await using direct = new MongoClient(secondary.uri, { readPreference: "secondary" });
  const copy = direct.db("feed").collection("posts");
  expect(await copy.findOne({ _id: 1 as never })).toEqual({ _id: 1, text: "replicated" } as never);

  await direct.db("admin").command({ configureFailPoint: "stopReplProducer", mode: "alwaysOn" });
  await posts.insertOne({ _id: 2 as never }, { writeConcern: { w: 1 } });
  expect(await copy.findOne({ _id: 2 as never })).toBeNull();
  const status = await direct.db("admin").command({ replSetGetStatus: 1 });
  const self = status.members.find((m: { self?: boolean }) => m.self);
  const primary = status.members.find((m: { stateStr: string }) => m.stateStr === "PRIMARY");
  expect(self.optime.ts.lessThan(primary.optime.ts)).toBe(true);

  await direct.db("admin").command({ configureFailPoint: "stopReplProducer", mode: "off" });
  expect(await copy.findOne({ _id: 2 as never })).toEqual({ _id: 2 } as never);
});

test("a majority write waits for a majority, and times out with WriteConcernFailed while two members do not apply", async () => {
  await using emulator = await startReplicaSet();
  await using client = new MongoClient(emulator.uri);
  const posts = client.db("feed").collection("posts");
  await posts.insertOne({ _id: 0 as never });
  const secondaries = emulator.members.filter((m) => m.state === "SECONDARY");
  for (const member of secondaries) {
    await using direct = new MongoClient(member.uri);
    await direct.db("admin").command({ configureFailPoint: "stopReplProducer", mode: "alwaysOn" });
  }
  const error = await posts.insertOne({ _id: 1 as never }, { writeConcern: { w: "majority", wtimeoutMS: 100 } }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(MongoWriteConcernError);
  expect((error as MongoWriteConcernError).code).toBe(64);
  const timedOut = await posts.insertOne({ _id: 2 as never }, { maxTimeMS: 100 } as never).catch((e: unknown) => e);
  expect((timedOut as MongoWriteConcernError).code).toBe(50);
  // w: 1 needs only the primary.
  expect((await posts.insertOne({ _id: 3 as never }, { writeConcern: { w: 1 } })).acknowledged).toBe(true);

  // Once one secondary applies again, the waiting majority write is acknowledged.
  const waiting = posts.insertOne({ _id: 4 as never });
  await using direct = new MongoClient(secondaries[0]!.uri);
  await direct.db("admin").command({ configureFailPoint: "stopReplProducer", mode: "off" });
  expect((await waiting).acknowledged).toBe(true);
});

test("a secondary refuses writes with NotWritablePrimary, and reads only with secondaryOk", async () => {
  await using emulator = await startReplicaSet();
  const secondary = emulator.members.find((m) => m.state === "SECONDARY")!;
  await using direct = new MongoClient(secondary.uri, { retryWrites: false });
  const error = await direct
    .db("feed")
    .collection("posts")
    .insertOne({ x: 1 })
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(MongoServerError);
  expect((error as MongoServerError).code).toBe(10107);
  expect((error as MongoServerError).codeName).toBe("NotWritablePrimary");
  // A read without a read preference that allows a secondary (OP_MSG $readPreference primary).
  const refused = await rawCommand(secondary.port, { find: "posts", $db: "feed" });
  expect(refused).toMatchObject({ ok: 0, code: 13435, codeName: "NotPrimaryNoSecondaryOk" });
  const served = await rawCommand(secondary.port, { find: "posts", $db: "feed", $readPreference: { mode: "secondaryPreferred" } });
  expect(served.ok).toBe(1);
  // An unacknowledged (moreToCome) write it cannot take: it hangs up, as mongod does.
  const MORE_TO_COME = 2;
  const hungUp = await rawCommand(secondary.port, { insert: "posts", documents: [{ x: 1 }], $db: "feed" }, MORE_TO_COME).catch(
    (e: unknown) => e,
  );
  expect((hungUp as Error).message).toBe("closed before replying");
  const hello = await direct.db("admin").command({ hello: 1 });
  expect(hello.secondary).toBe(true);
  expect(hello.isWritablePrimary).toBe(false);
  expect(hello.electionId).toBeUndefined();
});

test("with a replication delay a secondary sees a write only after the delay, and a majority write waits for it", async () => {
  await using emulator = await startReplicaSet({ replicationDelayMs: 150 });
  await using client = new MongoClient(emulator.uri);
  const secondary = emulator.members.find((m) => m.state === "SECONDARY")!;
  await using direct = new MongoClient(secondary.uri, { readPreference: "secondary" });
  const posts = client.db("feed").collection("posts");
  const started = Date.now();
  await posts.insertOne({ _id: 1 as never }, { writeConcern: { w: 1 } });
  expect(
    await direct
      .db("feed")
      .collection("posts")
      .findOne({ _id: 1 as never }),
  ).toBeNull();
  await posts.insertOne({ _id: 2 as never });
  expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  expect(
    await direct
      .db("feed")
      .collection("posts")
      .findOne({ _id: 1 as never }),
  ).toEqual({ _id: 1 } as never);
});

test("majority reads return only majority-committed writes, local reads the newest", async () => {
  await using emulator = await startReplicaSet();
  await using client = new MongoClient(emulator.uri);
  const posts = client.db("feed").collection("posts");
  await posts.insertOne({ _id: 1 as never });
  const secondaries = emulator.members.filter((m) => m.state === "SECONDARY");
  for (const member of secondaries) {
    await using direct = new MongoClient(member.uri);
    await direct.db("admin").command({ configureFailPoint: "stopReplProducer", mode: "alwaysOn" });
  }
  await posts.insertOne({ _id: 2 as never }, { writeConcern: { w: 1 } });
  const majority = client.db("feed").collection("posts", { readConcern: { level: "majority" } });
  expect(await majority.find().toArray()).toEqual([{ _id: 1 }] as never);
  expect(await majority.countDocuments()).toBe(1);
  expect(await posts.find().toArray()).toEqual([{ _id: 1 }, { _id: 2 }] as never);
  await using direct = new MongoClient(secondaries[0]!.uri);
  await direct.db("admin").command({ configureFailPoint: "stopReplProducer", mode: "off" });
  expect(await majority.find().toArray()).toEqual([{ _id: 1 }, { _id: 2 }] as never);
});

test("a causally consistent read on a lagging secondary waits until it has applied the session's write", async () => {
  await using emulator = await startReplicaSet();
  await using client = new MongoClient(emulator.uri);
  const secondary = emulator.members.find((m) => m.state === "SECONDARY")!;
  await using direct = new MongoClient(secondary.uri, { readPreference: "secondary" });
  await direct.db("admin").command({ configureFailPoint: "stopReplProducer", mode: "alwaysOn" });
  const session = direct.startSession({ causalConsistency: true });
  const writer = client.startSession({ causalConsistency: true });
  try {
    await client
      .db("feed")
      .collection("posts")
      .insertOne({ _id: 1 as never }, { session: writer, writeConcern: { w: 1 } });
    session.advanceClusterTime(writer.clusterTime!);
    session.advanceOperationTime(writer.operationTime!);
    const copy = direct.db("feed").collection("posts");
    const timedOut = await copy.findOne({ _id: 1 as never }, { session, maxTimeMS: 50 }).catch((e: unknown) => e);
    expect((timedOut as MongoServerError).code).toBe(50);
    const waiting = copy.findOne({ _id: 1 as never }, { session });
    await direct.db("admin").command({ configureFailPoint: "stopReplProducer", mode: "off" });
    expect(await waiting).toEqual({ _id: 1 } as never);
  } finally {
    await session.endSession();
    await writer.endSession();
  }
});
