// Defends: after a step-down, a lost and restarted primary and a secondary that stops replicating,
// the primary's change stream returns a write acknowledged with w:"majority"; and, as on mongod
// 4.2+, a change stream cursor opened on a primary that steps down stays on that member: a client
// that wants the primary's stream must open a new one on the new primary.
import { expect, test } from "bun:test";
import { MongoClient, type ChangeStreamInsertDocument } from "mongodb";
import type { Member } from "./member.ts";
import { healthySet, ObservedClient, startReplicaSet } from "./replica-set-fixture.ts";

const primaryOf = (members: Member[]) => members.find((m) => m.isPrimary())!;

async function admin(member: Member, command: Record<string, unknown>): Promise<void> {
  await using client = new MongoClient(member.uri, { serverSelectionTimeoutMS: 2_000 });
  await client.db("admin").command(command);
}

test("after a step-down, a restarted primary and a secondary stopping replication, the primary's change stream returns a majority write", async () => {
  await using emulator = await startReplicaSet();
  await using client = new ObservedClient(emulator.uri, { heartbeatFrequencyMS: 500 });
  const posts = client.db("feed").collection("posts");
  await posts.insertOne({ _id: 0 as never });
  await primaryOf(emulator.members).stepDown({ stepDownSecs: 1, secondaryCatchUpPeriodSecs: 1 });
  await posts.insertOne({ _id: 1 as never });
  const lost = primaryOf(emulator.members);
  await lost.shutdown({ force: true });
  await posts.insertOne({ _id: 2 as never });
  await lost.start();
  await client.discovered(healthySet);
  const stopped = emulator.members.find((m) => m.running && !m.isPrimary() && m !== lost)!;
  await admin(stopped, { configureFailPoint: "stopReplProducer", mode: "alwaysOn" });

  const stream = posts.watch([], { maxAwaitTimeMS: 50 });
  await stream.tryNext();
  await posts.insertOne({ _id: 3 as never }, { writeConcern: { w: "majority" } });
  const event = (await stream.next()) as ChangeStreamInsertDocument;
  expect(event.documentKey._id).toBe(3 as never);
  await stream.close();
  await admin(stopped, { configureFailPoint: "stopReplProducer", mode: "off" });
});

test("a change stream opened on a primary that steps down goes on reading from that member, and sees only what it applies", async () => {
  await using emulator = await startReplicaSet();
  await using client = new ObservedClient(emulator.uri, { heartbeatFrequencyMS: 500 });
  const posts = client.db("feed").collection("posts");
  await posts.insertOne({ _id: 0 as never });
  const stream = posts.watch([], { maxAwaitTimeMS: 50, readPreference: "primary" });
  await stream.tryNext();
  const old = primaryOf(emulator.members);
  await old.stepDown({ stepDownSecs: 1, secondaryCatchUpPeriodSecs: 1 });
  await admin(old, { configureFailPoint: "stopReplProducer", mode: "alwaysOn" });
  await posts.insertOne({ _id: 1 as never }, { writeConcern: { w: "majority" } });
  // The getMores go on answering (empty batches) from the old primary, now a secondary that applies nothing.
  expect(await stream.tryNext()).toBeNull();
  expect(await stream.tryNext()).toBeNull();
  const onNewPrimary = posts.watch([], { maxAwaitTimeMS: 50, startAfter: stream.resumeToken });
  const event = (await onNewPrimary.next()) as ChangeStreamInsertDocument;
  expect(event.documentKey._id).toBe(1 as never);
  await onNewPrimary.close();
  await admin(old, { configureFailPoint: "stopReplProducer", mode: "off" });
  const caughtUp = (await stream.next()) as ChangeStreamInsertDocument;
  expect(caughtUp._id).toEqual(event._id);
  await stream.close();
});
