// Defends: elections, step-down, shutdown and restart of members behave for the driver as on a mongod replica set.
import { expect, test } from "bun:test";
import { MongoClient, type MongoServerError, type ChangeStreamInsertDocument, type CommandStartedEvent } from "mongodb";
import { healthySet, ObservedClient, rawCommand, startReplicaSet } from "./replica-set-fixture.ts";

test("a forced step-down fails the write waiting on the old primary; the driver retries it once on the newly elected primary", async () => {
  await using emulator = await startReplicaSet();
  await using client = new ObservedClient(emulator.uri, { monitorCommands: true });
  const inserts: CommandStartedEvent[] = [];
  client.on("commandStarted", (event) => {
    if (event.commandName === "insert") inserts.push(event);
  });
  const posts = client.db("feed").collection("posts");
  await posts.insertOne({ _id: 0 as never });
  const [oldPrimary, ...secondaries] = [...emulator.members].sort((a) => (a.state === "PRIMARY" ? -1 : 1));
  for (const member of secondaries) {
    await using direct = new MongoClient(member.uri);
    await direct.db("admin").command({ configureFailPoint: "stopReplProducer", mode: "alwaysOn" });
  }
  inserts.length = 0;
  const waiting = posts.insertOne({ _id: 1 as never });
  await using admin = new MongoClient(oldPrimary!.uri);
  await admin.db("admin").command({ replSetStepDown: 60, secondaryCatchUpPeriodSecs: 0, force: true });
  expect((await waiting).acknowledged).toBe(true);
  expect(inserts.length).toBe(2);
  expect(inserts[0]!.address).toBe(oldPrimary!.host);
  const newPrimary = emulator.members.find((m) => m.state === "PRIMARY")!;
  expect(newPrimary).not.toBe(oldPrimary);
  expect(inserts[1]!.address).toBe(newPrimary.host);
  expect(await posts.countDocuments({ _id: 1 as never })).toBe(1);
  const servers = await client.discovered(healthySet);
  expect(servers.get(newPrimary.host)).toBe("RSPrimary");
});

test("replSetStepDown and replSetFreeze refuse what mongod refuses", async () => {
  await using emulator = await startReplicaSet();
  const [primary, secondary] = [...emulator.members].sort((a) => (a.state === "PRIMARY" ? -1 : 1));
  await using toPrimary = new MongoClient(primary!.uri);
  await using toSecondary = new MongoClient(secondary!.uri);
  const notPrimary = await toSecondary
    .db("admin")
    .command({ replSetStepDown: 60 })
    .catch((e: unknown) => e);
  expect((notPrimary as MongoServerError).code).toBe(10107);
  const frozen = await toPrimary
    .db("admin")
    .command({ replSetFreeze: 30 })
    .catch((e: unknown) => e);
  expect((frozen as MongoServerError).code).toBe(95);
  for (const member of emulator.members.filter((m) => m !== primary)) {
    await using direct = new MongoClient(member.uri);
    await direct.db("admin").command({ configureFailPoint: "stopReplProducer", mode: "alwaysOn" });
  }
  await toPrimary
    .db("feed")
    .collection("posts")
    .insertOne({ x: 1 }, { writeConcern: { w: 1 } });
  const behind = await toPrimary
    .db("admin")
    .command({ replSetStepDown: 60, secondaryCatchUpPeriodSecs: 0 })
    .catch((e: unknown) => e);
  expect((behind as MongoServerError).code).toBe(262);
  expect(primary!.state).toBe("PRIMARY");
});

test("when the primary shuts down the others elect the most up-to-date member; the old one restarts as a secondary on its port", async () => {
  await using emulator = await startReplicaSet();
  // The driver checks an unreachable member again only every heartbeatFrequencyMS (10 s by default).
  await using client = new ObservedClient(emulator.uri, { heartbeatFrequencyMS: 500 });
  const posts = client.db("feed").collection("posts");
  await posts.insertOne({ _id: 1 as never });
  const primary = emulator.members.find((m) => m.state === "PRIMARY")!;
  const port = primary.port;
  await primary.shutdown();
  expect(primary.state).toBe("DOWN");
  await posts.insertOne({ _id: 2 as never });
  const status = await client.db("admin").command({ replSetGetStatus: 1 });
  const down = status.members.find((m: { name: string }) => m.name === primary.host);
  expect(down).toMatchObject({ health: 0, stateStr: "(not reachable/healthy)" });
  expect(status.members.map((m: { stateStr: string }) => m.stateStr).sort()).toEqual(["(not reachable/healthy)", "PRIMARY", "SECONDARY"]);

  await primary.start();
  expect(primary.port).toBe(port);
  expect(primary.state).toBe("SECONDARY");
  await using direct = new MongoClient(primary.uri, { readPreference: "secondary" });
  expect(await direct.db("feed").collection("posts").countDocuments()).toBe(2);
  await client.discovered(healthySet);
});

test("emulatorRestartMember on any running member starts a member that was shut down with the shutdown command", async () => {
  await using emulator = await startReplicaSet();
  const secondary = emulator.members.find((m) => m.state === "SECONDARY")!;
  const primary = emulator.members.find((m) => m.state === "PRIMARY")!;
  await using direct = new MongoClient(secondary.uri);
  await direct
    .db("admin")
    .command({ shutdown: 1 })
    .catch(() => undefined); // mongod closes the connection instead of replying
  expect(secondary.state).toBe("DOWN");
  await using admin = new MongoClient(primary.uri);
  const restart = await admin.db("admin").command({ emulatorRestartMember: secondary.host });
  expect(restart.ok).toBe(1);
  expect(secondary.state).toBe("SECONDARY");
  const unknown = await admin
    .db("admin")
    .command({ emulatorRestartMember: "127.0.0.1:1" })
    .catch((e: unknown) => e);
  expect((unknown as MongoServerError).code).toBe(93);
});

test("a change stream on a secondary resumes on another member after its member shuts down, with identical resume tokens", async () => {
  await using emulator = await startReplicaSet();
  await using writer = new MongoClient(emulator.uri);
  const posts = writer.db("feed").collection("posts");
  await posts.insertOne({ _id: 0 as never });
  const [first, second] = emulator.members.filter((m) => m.state === "SECONDARY");
  // Its member goes away: closing the client must not wait 30 s to select it for endSessions.
  await using onFirst = new MongoClient(first!.uri, { readPreference: "secondary", serverSelectionTimeoutMS: 200 });
  await using onSecond = new MongoClient(second!.uri, { readPreference: "secondary" });
  const streamA = onFirst.db("feed").collection("posts").watch([], { maxAwaitTimeMS: 50 });
  const streamB = onSecond.db("feed").collection("posts").watch([], { maxAwaitTimeMS: 50 });
  await streamA.tryNext();
  await streamB.tryNext();
  await posts.insertOne({ _id: 1 as never });
  const eventA = (await streamA.next()) as ChangeStreamInsertDocument;
  const eventB = (await streamB.next()) as ChangeStreamInsertDocument;
  expect(eventA.documentKey._id).toBe(1 as never);
  expect(eventA._id).toEqual(eventB._id);
  await streamB.close();

  await first!.shutdown();
  await posts.insertOne({ _id: 2 as never });
  const resumed = onSecond.db("feed").collection("posts").watch([], { resumeAfter: eventA._id, maxAwaitTimeMS: 50 });
  const next = (await resumed.next()) as ChangeStreamInsertDocument;
  expect(next.documentKey._id).toBe(2 as never);
  await resumed.close();
  await streamA.close().catch(() => undefined);
});

test("a stream on a lagging secondary returns only what it applied, and its postBatchResumeToken does not pass it", async () => {
  await using emulator = await startReplicaSet();
  await using writer = new MongoClient(emulator.uri);
  const posts = writer.db("feed").collection("posts");
  const [lagging] = emulator.members.filter((m) => m.state === "SECONDARY");
  await using direct = new MongoClient(lagging!.uri, { readPreference: "secondary" });
  const stream = direct.db("feed").collection("posts").watch([], { maxAwaitTimeMS: 50 });
  await stream.tryNext();
  await direct.db("admin").command({ configureFailPoint: "stopReplProducer", mode: "alwaysOn" });
  await posts.insertOne({ _id: 1 as never });
  expect(await stream.tryNext()).toBeNull();
  const held = stream.resumeToken as { _data: string };
  const written = (await writer.db("feed").command({ ping: 1 })).operationTime;
  expect(held._data.slice(2, 18) < written.toString(16).padStart(16, "0").toUpperCase()).toBe(true);
  await direct.db("admin").command({ configureFailPoint: "stopReplProducer", mode: "off" });
  const event = (await stream.next()) as ChangeStreamInsertDocument;
  expect(event.documentKey._id).toBe(1 as never);
  await stream.close();
});

test("an awaitable hello is answered at once when the member's topologyVersion changes", async () => {
  await using emulator = await startReplicaSet();
  const primary = emulator.members.find((m) => m.state === "PRIMARY")!;
  const hello = await rawCommand(primary.port, { hello: 1, $db: "admin" });
  const waiting = rawCommand(primary.port, { hello: 1, $db: "admin", topologyVersion: hello.topologyVersion, maxAwaitTimeMS: 30_000 });
  await primary.stepDown();
  const changed = await waiting;
  expect(changed.isWritablePrimary).toBe(false);
  expect(changed.secondary).toBe(true);
  expect(changed.topologyVersion.processId).toEqual(hello.topologyVersion.processId);
  expect(Number(changed.topologyVersion.counter)).toBeGreaterThan(Number(hello.topologyVersion.counter));
});

test("the most up-to-date electable member wins the election, in a new term", async () => {
  await using emulator = await startReplicaSet();
  await using client = new MongoClient(emulator.uri);
  const primary = emulator.members.find((m) => m.state === "PRIMARY")!;
  const [behind, ahead] = emulator.members.filter((m) => m !== primary);
  await using toBehind = new MongoClient(behind!.uri);
  await toBehind.db("admin").command({ configureFailPoint: "stopReplProducer", mode: "alwaysOn" });
  await client.db("feed").collection("posts").insertOne({ x: 1 });
  const before = await rawCommand(primary.port, { hello: 1, $db: "admin" });
  await primary.stepDown();
  await client.db("feed").collection("posts").insertOne({ x: 2 });
  expect(ahead!.state).toBe("PRIMARY");
  const after = await rawCommand(ahead!.port, { hello: 1, $db: "admin" });
  expect(after.electionId.toHexString() > before.electionId.toHexString()).toBe(true);
  expect(after.primary).toBe(ahead!.host);
});

test("optimes carry the term of the primary that wrote them", async () => {
  await using emulator = await startReplicaSet();
  await using client = new MongoClient(emulator.uri);
  const posts = client.db("feed").collection("posts");
  await posts.insertOne({ term: 1 });
  await emulator.members.find((m) => m.state === "PRIMARY")!.stepDown();
  await posts.insertOne({ term: 2 });
  const status = await client.db("admin").command({ replSetGetStatus: 1 });
  expect(Number(status.term)).toBe(2);
  expect(Number(status.optimes.appliedOpTime.t)).toBe(2);
  const oplog = await client.db("local").collection("oplog.rs").find({ op: "i" }).toArray();
  expect(oplog.map((entry) => [entry.o.term, Number(entry.t)])).toEqual([
    [1, 1],
    [2, 2],
  ]);
});
