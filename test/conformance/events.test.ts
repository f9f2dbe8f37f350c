// Defends: the conformance runner captures and matches command events as the unified test format says.
import { EventEmitter } from "node:events";
import { describe, expect, test } from "bun:test";
import type { MongoClient } from "mongodb";
import { ClientEventLog, type ObservedCommandEvent } from "./events";
import { checkExpectedEvents } from "./expected-events";
import type { MatchEntities } from "./match";

const noEntities: MatchEntities = { bsonEntity: () => undefined, sessionLsid: () => undefined };

function started(commandName: string, command: Record<string, unknown>): ObservedCommandEvent {
  return { type: "commandStartedEvent", commandName, databaseName: "db", command, serverConnectionId: null };
}

/** Emits driver-shaped command events on a stand-in client. */
function fakeClient(): { client: MongoClient; emit(kind: string, name: string, requestId: number, command?: object): void } {
  const emitter = new EventEmitter();
  return {
    client: emitter as unknown as MongoClient,
    emit: (kind, commandName, requestId, command = {}) =>
      emitter.emit(kind, { commandName, databaseName: "db", requestId, command, reply: {}, serverConnectionId: null }),
  };
}

describe("checkExpectedEvents", () => {
  const aggregate = started("aggregate", { aggregate: "coll", pipeline: [], cursor: {}, lsid: {} });
  const getMore = started("getMore", { getMore: 1, collection: "coll" });

  test("matches the command as a root-level document", () => {
    const expected = { client: "c", events: [{ commandStartedEvent: { command: { aggregate: "coll" }, commandName: "aggregate" } }] };
    expect(checkExpectedEvents(expected, [aggregate], noEntities)).toBeNull();
  });

  test("fails on extra events unless ignoreExtraEvents", () => {
    const events = [{ commandStartedEvent: { commandName: "aggregate" } }];
    expect(checkExpectedEvents({ client: "c", events }, [aggregate, getMore], noEntities)).toContain("expected 1 event(s), observed 2");
    expect(checkExpectedEvents({ client: "c", events, ignoreExtraEvents: true }, [aggregate, getMore], noEntities)).toBeNull();
  });

  test("an empty list asserts that nothing was observed", () => {
    expect(checkExpectedEvents({ client: "c", events: [] }, [], noEntities)).toBeNull();
    expect(checkExpectedEvents({ client: "c", events: [] }, [aggregate], noEntities)).not.toBeNull();
  });

  test("reports the event and path that differ", () => {
    const expected = { client: "c", events: [{ commandStartedEvent: { command: { cursor: { batchSize: 1 } } } }] };
    expect(checkExpectedEvents(expected, [aggregate], noEntities)).toContain(
      "event #0: commandStartedEvent (aggregate) command.cursor.batchSize",
    );
  });

  test("distinguishes started from succeeded events", () => {
    const expected = { client: "c", events: [{ commandSucceededEvent: { commandName: "aggregate" } }] };
    expect(checkExpectedEvents(expected, [aggregate], noEntities)).toContain("expected commandSucceededEvent, got commandStartedEvent");
  });
});

describe("ClientEventLog", () => {
  test("keeps only observed event types and drops ignored and sensitive commands", () => {
    const { client, emit } = fakeClient();
    const log = new ClientEventLog(client, { observeEvents: ["commandStartedEvent"], ignoreCommandMonitoringEvents: ["killCursors"] });
    emit("commandStarted", "find", 1, { find: "c" });
    emit("commandSucceeded", "find", 1);
    emit("commandStarted", "killCursors", 2);
    emit("commandStarted", "saslStart", 3);
    emit("commandStarted", "hello", 4, { hello: 1, speculativeAuthenticate: {} });
    emit("commandStarted", "hello", 5, { hello: 1 });
    expect(log.events.map((event) => event.commandName)).toEqual(["find", "hello"]);
  });

  test("drops only the configureFailPoint sent by a failPoint operation, with its reply", () => {
    const { client, emit } = fakeClient();
    const log = new ClientEventLog(client, {
      observeEvents: ["commandStartedEvent", "commandSucceededEvent"],
      ignoreCommandMonitoringEvents: [],
    });
    log.ignoreNextFailPointCommand();
    emit("commandStarted", "configureFailPoint", 1);
    emit("commandSucceeded", "configureFailPoint", 1);
    emit("commandStarted", "configureFailPoint", 2);
    expect(log.events.map((event) => `${event.type}:${event.commandName}`)).toEqual(["commandStartedEvent:configureFailPoint"]);
  });

  test("stops recording once the operations are over", () => {
    const { client, emit } = fakeClient();
    const log = new ClientEventLog(client, { observeEvents: ["commandStartedEvent"], ignoreCommandMonitoringEvents: [] });
    log.stop();
    emit("commandStarted", "endSessions", 1);
    expect(log.events).toEqual([]);
  });
});

describe("CMAP and SDAM events", () => {
  function cmapClient() {
    const emitter = new EventEmitter();
    const client = emitter as unknown as MongoClient;
    return { client, emit: (name: string, event: object = {}) => emitter.emit(name, event) };
  }

  test("records observed types under the format's names and counts checked-out connections", () => {
    const { client, emit } = cmapClient();
    const log = new ClientEventLog(client, {
      observeEvents: ["poolClearedEvent", "connectionClosedEvent", "serverDescriptionChangedEvent"],
      ignoreCommandMonitoringEvents: [],
    });
    emit("connectionCheckedOut");
    emit("connectionCheckedOut");
    emit("connectionCheckedIn");
    emit("connectionPoolCleared", { interruptInUseConnections: false });
    emit("connectionClosed", { reason: "stale" });
    emit("serverDescriptionChanged", { previousDescription: { type: "Unknown" }, newDescription: { type: "RSPrimary", hosts: [] } });
    expect(log.checkedOut).toBe(1);
    expect(log.events).toEqual([
      { type: "poolClearedEvent", interruptInUseConnections: false },
      { type: "connectionClosedEvent", reason: "stale" },
      { type: "serverDescriptionChangedEvent", previousDescription: { type: "Unknown" }, newDescription: { type: "RSPrimary" } },
    ]);
  });

  test("refuses an event type the format does not name", () => {
    const { client } = cmapClient();
    expect(() => new ClientEventLog(client, { observeEvents: ["poolExplodedEvent"], ignoreCommandMonitoringEvents: [] })).toThrow(
      "is not supported by this runner",
    );
  });

  test("waitFor counts earlier events and resolves on the one that completes the count", async () => {
    const { client, emit } = cmapClient();
    const log = new ClientEventLog(client, { observeEvents: ["poolClearedEvent", "poolReadyEvent"], ignoreCommandMonitoringEvents: [] });
    emit("connectionPoolCleared");
    let done = false;
    const waiting = log
      .waitFor((event) => event.type === "poolClearedEvent", 2)
      .then(() => {
        done = true;
      });
    emit("connectionPoolReady");
    await Promise.resolve();
    expect(done).toBe(false);
    emit("connectionPoolCleared");
    await waiting;
    expect(done).toBe(true);
  });

  test("expectEvents asserts one eventType at a time, and description types only", () => {
    const observed = [
      started("insert", { insert: "c" }),
      { type: "connectionCheckedOutEvent" },
      { type: "topologyDescriptionChangedEvent", previousDescription: { type: "Unknown" }, newDescription: { type: "Single" } },
    ];
    const cmap = { client: "c", eventType: "cmap" as const, events: [{ connectionCheckedOutEvent: {} }] };
    expect(checkExpectedEvents(cmap, observed, noEntities)).toBeNull();
    const sdam = (type: string) => ({
      client: "c",
      eventType: "sdam" as const,
      events: [{ topologyDescriptionChangedEvent: { previousDescription: { type: "Unknown" }, newDescription: { type } } }],
    });
    expect(checkExpectedEvents(sdam("Single"), observed, noEntities)).toBeNull();
    expect(checkExpectedEvents(sdam("ReplicaSetWithPrimary"), observed, noEntities)).toContain("newDescription");
  });
});
