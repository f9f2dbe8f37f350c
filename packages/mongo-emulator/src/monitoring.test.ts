// Defends: the emulator speaks the streaming protocol of server monitoring (awaitable hello answered with moreToCome), so the driver never marks it Unknown between heartbeats.
import { expect, test } from "bun:test";
import { MongoClient } from "mongodb";
import { startEmulator } from "./index.ts";

test("awaitable hellos stream with moreToCome: heartbeats succeed one after another, none fails, the server stays primary", async () => {
  await using emulator = await startEmulator();
  // A short heartbeat so several streamed replies arrive quickly (each waits heartbeatFrequencyMS).
  const client = new MongoClient(emulator.uri, { heartbeatFrequencyMS: 500 });
  const failures: string[] = [];
  const types: string[] = [];
  let awaited = 0;
  const { promise: streamed, resolve } = Promise.withResolvers<void>();
  client.on("serverHeartbeatFailed", (event) => failures.push(event.failure.message));
  client.on("serverDescriptionChanged", (event) => types.push(event.newDescription.type));
  client.on("serverHeartbeatSucceeded", (event) => {
    if (event.awaited && ++awaited >= 4) resolve();
  });
  await client.connect();
  await streamed;
  await client.close();
  expect(failures).toEqual([]);
  expect(types.filter((type) => type !== "RSPrimary")).toEqual([]);
}, 15_000);
