/**
 * Causally consistent reads on a member of several: a read with `readConcern.afterClusterTime`
 * waits until the member has applied (or, for majority reads, majority-committed) that time, as
 * mongod does; `maxTimeMS` bounds the wait (MaxTimeMSExpired, 50).
 */
import type { Document, Timestamp } from "bson";
import { compareOpTime, fromTimestamp, type OpTime } from "./cluster-clock.ts";
import type { CommandContext } from "./commands/context.ts";
import { CommandError } from "./errors.ts";

const READS = new Set(["find", "aggregate", "count", "distinct"]);

/** Resolves when the read may run; undefined when it may run now. */
export function awaitReadConcern(ctx: CommandContext, name: string): Promise<void> | undefined {
  const member = ctx.state.replica;
  const readConcern = ctx.command.readConcern as Document | undefined;
  const after = readConcern?.afterClusterTime as Timestamp | undefined;
  if (!member || !READS.has(name) || after?._bsontype !== "Timestamp") return undefined;
  // A time past every write (a gossiped cluster time) needs only what the primary has.
  const primaryTime = member.set.primary?.server?.oplog.lastTime;
  let wanted: OpTime = fromTimestamp(after);
  if (primaryTime && compareOpTime(primaryTime, wanted) < 0) wanted = primaryTime;
  const majority = readConcern?.level === "majority";
  const reached = () => {
    const oplog = member.server?.oplog;
    return !oplog || compareOpTime(majority ? oplog.readableTime : oplog.lastTime, wanted) >= 0;
  };
  if (reached()) return undefined;
  const maxTimeMS = Number(ctx.command.maxTimeMS ?? 0);
  return member.set.waitFor(reached, maxTimeMS > 0 ? maxTimeMS : Infinity).then((ok) => {
    if (!ok) throw new CommandError(50, "operation exceeded time limit");
  });
}
