import type { ClientSession, MongoClient, TopologyDescription, TopologyDescriptionChangedEvent } from "mongodb";
import { AssertionFailure } from "../failures";
import { describe as show, isDocument, type Document } from "../bson-values";
import { within } from "../deadline";
import type { ObservedEvent } from "../events";
import { eventMismatch } from "../expected-events";
import { sameScalar } from "../match";
import { WAIT_LIMIT_MS, type Args, type OperationContext, type Operations } from "./definition";

/** The driver's transaction states under the format's names. */
const TRANSACTION_STATES: Record<string, string> = {
  NO_TRANSACTION: "none",
  STARTING_TRANSACTION: "starting",
  TRANSACTION_IN_PROGRESS: "in_progress",
  TRANSACTION_COMMITTED: "committed",
  TRANSACTION_COMMITTED_EMPTY: "committed",
  TRANSACTION_ABORTED: "aborted",
};

function sessionOf(args: Args): ClientSession {
  const session = args.session as unknown as ClientSession | undefined;
  if (!session) throw new Error("this operation needs a session argument");
  return session;
}

function isDirty(session: ClientSession): boolean {
  return (session as unknown as { serverSession?: { isDirty?: boolean } }).serverSession?.isDirty === true;
}

/** The lsids of the client's last two commandStartedEvents (both must exist). */
function lastTwoLsids(args: Args, ctx: OperationContext): [unknown, unknown] {
  const { events } = ctx.entities.get(String(args.client), "client");
  const started = events.events.filter((event) => event.type === "commandStartedEvent");
  const [first, second] = started.slice(-2).map((event) => event.command?.lsid);
  if (started.length < 2 || first === undefined || second === undefined) {
    throw new AssertionFailure(`needs two observed commandStartedEvents with an lsid, observed ${started.length}`);
  }
  return [first, second];
}

async function collectionNames(args: Args, ctx: OperationContext): Promise<string[]> {
  const db = ctx.env.internalClient.db(String(args.databaseName));
  return (await db.listCollections({}, { nameOnly: true }).toArray()).map((collection) => collection.name);
}

async function indexNames(args: Args, ctx: OperationContext): Promise<string[]> {
  const collection = ctx.env.internalClient.db(String(args.databaseName)).collection(String(args.collectionName));
  return (await collection.listIndexes().toArray()).map((index) => String(index.name));
}

function expectedEvent(args: Args): Document {
  if (!isDocument(args.event)) throw new Error("event must be an expectedEvent document");
  return args.event;
}

function matcher(args: Args, ctx: OperationContext): (event: ObservedEvent) => boolean {
  const expected = expectedEvent(args);
  return (event) => eventMismatch(expected, event, ctx.entities) === null;
}

/** The client's current TopologyDescription (the driver keeps it on its internal topology). */
function topologyDescription(client: MongoClient): TopologyDescription {
  const description = (client as unknown as { topology?: { description: TopologyDescription } }).topology?.description;
  if (!description) throw new Error("the client has no topology yet (not connected)");
  return description;
}

function primaryAddress(description: TopologyDescription): string | undefined {
  return [...description.servers.values()].find((server) => server.type === "RSPrimary")?.address;
}

/** Resolves once the client's topology has a primary other than the prior description's. */
function primaryChange(client: MongoClient, prior: TopologyDescription): Promise<void> {
  const before = primaryAddress(prior);
  const changed = (description: TopologyDescription) => {
    const now = primaryAddress(description);
    return now !== undefined && now !== before;
  };
  const { promise, resolve } = Promise.withResolvers<void>();
  if (changed(topologyDescription(client))) resolve();
  const listener = (event: TopologyDescriptionChangedEvent) => {
    if (changed(event.newDescription)) resolve();
  };
  client.on("topologyDescriptionChanged", listener);
  return promise.finally(() => client.off("topologyDescriptionChanged", listener));
}

function check(condition: boolean, message: () => string): void {
  if (!condition) throw new AssertionFailure(message());
}

export const assertionOperations: Operations<undefined> = {
  assertSessionTransactionState: {
    args: ["state"],
    run: async (_, args) => {
      const raw = (sessionOf(args) as unknown as { transaction: { state: string } }).transaction.state;
      const state = TRANSACTION_STATES[raw] ?? raw;
      check(state === args.state, () => `expected transaction state ${String(args.state)}, got ${state}`);
    },
  },
  assertSessionPinned: { args: [], run: async (_, args) => check(sessionOf(args).isPinned, () => "expected the session to be pinned") },
  assertSessionUnpinned: {
    args: [],
    run: async (_, args) => check(!sessionOf(args).isPinned, () => "expected the session to be unpinned"),
  },
  assertSessionDirty: { args: [], run: async (_, args) => check(isDirty(sessionOf(args)), () => "expected the session to be dirty") },
  assertSessionNotDirty: {
    args: [],
    run: async (_, args) => check(!isDirty(sessionOf(args)), () => "expected the session not to be dirty"),
  },
  assertDifferentLsidOnLastTwoCommands: {
    args: ["client"],
    run: async (_, args, ctx) => {
      const [first, second] = lastTwoLsids(args, ctx);
      check(!sameScalar(first, second), () => `expected different lsids, both are ${show(first)}`);
    },
  },
  assertSameLsidOnLastTwoCommands: {
    args: ["client"],
    run: async (_, args, ctx) => {
      const [first, second] = lastTwoLsids(args, ctx);
      check(sameScalar(first, second), () => `expected the same lsid, got ${show(first)} then ${show(second)}`);
    },
  },
  assertCollectionExists: {
    args: ["databaseName", "collectionName"],
    run: async (_, args, ctx) => {
      const names = await collectionNames(args, ctx);
      check(names.includes(String(args.collectionName)), () => `expected collection ${args.databaseName}.${args.collectionName} to exist`);
    },
  },
  assertCollectionNotExists: {
    args: ["databaseName", "collectionName"],
    run: async (_, args, ctx) => {
      const names = await collectionNames(args, ctx);
      check(!names.includes(String(args.collectionName)), () => `expected no collection ${args.databaseName}.${args.collectionName}`);
    },
  },
  assertIndexExists: {
    args: ["databaseName", "collectionName", "indexName"],
    run: async (_, args, ctx) => {
      const names = await indexNames(args, ctx);
      check(names.includes(String(args.indexName)), () => `expected index ${args.indexName}, indexes are [${names.join(", ")}]`);
    },
  },
  assertIndexNotExists: {
    args: ["databaseName", "collectionName", "indexName"],
    run: async (_, args, ctx) => {
      // A missing collection has no index either.
      const names: string[] = await indexNames(args, ctx).catch((error: { code?: number }) => {
        if (error.code === 26) return [];
        throw error;
      });
      check(!names.includes(String(args.indexName)), () => `expected no index ${args.indexName}, indexes are [${names.join(", ")}]`);
    },
  },
  assertNumberConnectionsCheckedOut: {
    args: ["client", "connections"],
    run: async (_, args, ctx) => {
      const { events } = ctx.entities.get(String(args.client), "client");
      check(
        events.checkedOut === Number(args.connections),
        () => `expected ${args.connections} connections checked out, got ${events.checkedOut}`,
      );
    },
  },
  waitForEvent: {
    args: ["client", "event", "count"],
    run: async (_, args, ctx) => {
      const { events } = ctx.entities.get(String(args.client), "client");
      await within(
        events.waitFor(matcher(args, ctx), Number(args.count)),
        WAIT_LIMIT_MS,
        `waitForEvent ${show(args.event)} x${args.count}`,
      );
    },
  },
  assertEventCount: {
    args: ["client", "event", "count"],
    run: async (_, args, ctx) => {
      const { events } = ctx.entities.get(String(args.client), "client");
      const count = events.events.filter(matcher(args, ctx)).length;
      check(count === Number(args.count), () => `expected ${args.count} ${show(args.event)} event(s), observed ${count}`);
    },
  },
  recordTopologyDescription: {
    args: ["client", "id"],
    run: async (_, args, ctx) => {
      const { client } = ctx.entities.get(String(args.client), "client");
      ctx.entities.set(String(args.id), { kind: "topologyDescription", description: topologyDescription(client) });
    },
  },
  assertTopologyType: {
    args: ["topologyDescription", "topologyType"],
    run: async (_, args, ctx) => {
      const { description } = ctx.entities.get(String(args.topologyDescription), "topologyDescription");
      check(description.type === args.topologyType, () => `expected topology type ${args.topologyType}, got ${description.type}`);
    },
  },
  waitForPrimaryChange: {
    args: ["client", "priorTopologyDescription", "timeoutMS"],
    run: async (_, args, ctx) => {
      const { client } = ctx.entities.get(String(args.client), "client");
      const { description } = ctx.entities.get(String(args.priorTopologyDescription), "topologyDescription");
      await within(primaryChange(client, description), Number(args.timeoutMS ?? WAIT_LIMIT_MS), "waitForPrimaryChange");
    },
  },
};
