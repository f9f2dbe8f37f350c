import { MongoClient, type ClientSession } from "mongodb";
import { isDocument, type Document } from "../bson-values";
import { AssertionFailure } from "../failures";
import { within } from "../deadline";
import { createEntities } from "../entities";
import type { Operation } from "../load-spec-files";
import { assertionOperations } from "./test-runner-assertions";
import { WAIT_LIMIT_MS, type Args, type OperationContext, type Operations } from "./definition";

function failPointCommand(value: unknown): Document & { configureFailPoint: string } {
  if (!isDocument(value) || typeof value.configureFailPoint !== "string") throw new Error("failPoint needs a configureFailPoint document");
  return value as Document & { configureFailPoint: string };
}

/** configureFailPoint through the named client entity (not an internal client), on admin. */
async function failPoint(args: Args, ctx: OperationContext): Promise<void> {
  const { client, events } = ctx.entities.get(String(args.client), "client");
  const command = failPointCommand(args.failPoint);
  events.ignoreNextFailPointCommand();
  await client.db("admin").command(command, { readPreference: "primary" });
  ctx.failPoints.push({ client, name: command.configureFailPoint });
}

/**
 * On the mongos the session is pinned to, through a client connected to that mongos alone
 * (the Node driver has no API to send a command to a chosen server), closed after the test.
 */
async function targetedFailPoint(args: Args, ctx: OperationContext): Promise<void> {
  const session = args.session as unknown as ClientSession;
  const command = failPointCommand(args.failPoint);
  const pinned = (session as unknown as { transaction: { server?: { description: { address: string } } } }).transaction.server;
  if (!session.isPinned || !pinned) throw new Error("targetedFailPoint: the session is not pinned to a mongos");
  const client = new MongoClient(`mongodb://${pinned.description.address}/?directConnection=true`);
  await client.db("admin").command(command);
  ctx.failPoints.push({ client, name: command.configureFailPoint, closeAfter: true });
}

function operationArgument(value: unknown): Operation {
  if (!isDocument(value) || typeof value.name !== "string" || typeof value.object !== "string") {
    throw new Error("runOnThread needs an operation with name and object");
  }
  return value as unknown as Operation;
}

export const testRunnerOperations: Operations<undefined> = {
  failPoint: { args: ["client", "failPoint"], run: (_, args, ctx) => failPoint(args, ctx) },
  targetedFailPoint: { args: ["failPoint"], run: (_, args, ctx) => targetedFailPoint(args, ctx) },
  createEntities: {
    args: ["entities"],
    run: async (_, { entities }, ctx) => createEntities(entities as Document[], ctx.entities, ctx.env),
  },
  runOnThread: {
    args: ["thread", "operation"],
    run: async (_, args, ctx) => {
      const { thread } = ctx.entities.get(String(args.thread), "thread");
      const operation = operationArgument(args.operation);
      thread.run(async () => {
        try {
          await ctx.execute(operation);
        } catch (error) {
          // Named here, since waitForThread reports it long after.
          throw new AssertionFailure(
            `thread ${args.thread}, ${operation.name} on ${operation.object}: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      });
    },
  },
  waitForThread: {
    args: ["thread"],
    run: (_, args, ctx) => within(ctx.entities.get(String(args.thread), "thread").thread.finish(), WAIT_LIMIT_MS, "waitForThread"),
  },
  // The format's own sleep (used to let a server-side timer pass).
  wait: {
    args: ["ms"],
    run: (_, { ms }) => new Promise((resolve) => setTimeout(resolve, Number(ms))),
  },
  ...assertionOperations,
};
