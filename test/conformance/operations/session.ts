import type { TransactionOptions } from "mongodb";
import type { Document } from "../bson-values";
import type { Entity } from "../entities";
import type { Operation } from "../load-spec-files";
import type { ArgumentName, Args, Operations } from "./definition";

type SessionTarget = Extract<Entity, { kind: "session" }>;

const TRANSACTION_OPTIONS: ArgumentName[] = ["readConcern", "writeConcern", "readPreference", "maxCommitTimeMS", "timeoutMS"];

function transactionOptions(args: Args): TransactionOptions {
  const options: Document = { ...args };
  delete options.session;
  delete options.callback;
  // runOperation already made a readPreference argument a driver object.
  return options as TransactionOptions;
}

export const sessionOperations: Operations<SessionTarget> = {
  startTransaction: {
    args: TRANSACTION_OPTIONS,
    run: async ({ session }, args) => session.startTransaction(transactionOptions(args)),
  },
  commitTransaction: { args: ["timeoutMS"], run: ({ session }, o) => session.commitTransaction(o) },
  abortTransaction: { args: ["timeoutMS"], run: ({ session }, o) => session.abortTransaction(o) },
  // The callback is a list of operations, run with their assertions; their errors reach withTransaction.
  withTransaction: {
    args: ["callback", ...TRANSACTION_OPTIONS],
    run: async ({ session }, args, ctx) => {
      const callback = args.callback as unknown;
      if (!Array.isArray(callback)) throw new Error("withTransaction needs a callback array of operations");
      await session.withTransaction(async () => {
        for (const operation of callback as Operation[]) await ctx.execute(operation, { propagateErrors: true });
      }, transactionOptions(args));
    },
  },
  getSnapshotTime: {
    args: [],
    run: async ({ session }) => {
      const time = (session as unknown as { snapshotTime?: unknown }).snapshotTime;
      if (time === undefined || time === null) throw new Error("the session has no snapshotTime yet");
      return time;
    },
  },
  endSession: { args: [], run: async ({ session }) => void (await session.endSession()) },
};
