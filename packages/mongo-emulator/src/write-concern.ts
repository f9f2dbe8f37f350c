/**
 * Write concern on the primary of several members: a write is acknowledged once `w` members hold
 * it (`majority`, the default, means the majority commit point has reached it), or answered with
 * mongod's writeConcernError when wtimeout/maxTimeMS passes, the primary steps down or shuts down.
 */
import type { Document } from "bson";
import type { CommandContext } from "./commands/context.ts";
import { WRITE_COMMANDS } from "./member-role.ts";

const RETRYABLE_COMMANDS = new Set(["insert", "update", "delete", "findAndModify", "findandmodify"]);

function positive(value: unknown): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** The reply, once the write concern is satisfied or has failed (then with `writeConcernError`). */
export function awaitWriteConcern(ctx: CommandContext, name: string, reply: Document): Document | Promise<Document> {
  const member = ctx.state.replica;
  if (!member || !WRITE_COMMANDS.has(name) || reply.ok !== 1) return reply;
  const writeConcern = (ctx.command.writeConcern ?? {}) as Document;
  const raw = writeConcern.w ?? "majority";
  const w: number | "majority" = typeof raw === "number" ? raw : "majority";
  if (w !== "majority" && w <= 1) return reply;
  const wtimeout = positive(writeConcern.wtimeout ?? writeConcern.wtimeoutMS);
  const maxTimeMS = positive(ctx.command.maxTimeMS);
  const timeout = Math.min(wtimeout || Infinity, maxTimeMS || Infinity);
  const time = ctx.state.oplog.lastTime;
  return member.set.awaitReplication(member, time, w, timeout).then((outcome) => {
    if (outcome === "satisfied") return reply;
    const retryable = RETRYABLE_COMMANDS.has(name) && ctx.command.txnNumber !== undefined;
    if (outcome === "timeout" && maxTimeMS > 0 && (wtimeout === 0 || maxTimeMS <= wtimeout)) {
      reply.writeConcernError = { code: 50, codeName: "MaxTimeMSExpired", errmsg: "operation exceeded time limit" };
    } else if (outcome === "timeout") {
      reply.writeConcernError = {
        code: 64,
        codeName: "WriteConcernFailed",
        errmsg: "waiting for replication timed out",
        errInfo: { wtimeout: true, writeConcern: { w: raw, wtimeout, provenance: "clientSupplied" } },
      };
    } else if (outcome === "steppedDown") {
      reply.writeConcernError = { code: 189, codeName: "PrimarySteppedDown", errmsg: "Primary stepped down while waiting for replication" };
      if (retryable) reply.errorLabels = ["RetryableWriteError"];
    } else {
      reply.writeConcernError = { code: 91, codeName: "ShutdownInProgress", errmsg: "Replication is being shut down" };
      if (retryable) reply.errorLabels = ["RetryableWriteError"];
    }
    return reply;
  });
}
