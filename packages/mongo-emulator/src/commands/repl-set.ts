/**
 * Replica set commands: replSetGetStatus, replSetGetConfig, replSetStepDown, replSetFreeze,
 * shutdown, and the emulator-only emulatorRestartMember. With a single node only
 * replSetGetStatus answers (as before); the others are unknown commands there.
 */
import { CommandError } from "../errors.ts";
import { replSetConfig, replSetStatus } from "../member-status.ts";
import type { MemberView } from "../replica-set-view.ts";
import { CLOSE_CONNECTION, type CommandContext, type CommandHandler } from "./context.ts";

/** The member this command runs on; admin-only like mongod's. */
function memberOf(ctx: CommandContext, name: string): MemberView {
  const member = ctx.state.replica;
  if (!member) throw new CommandError(59, `no such command: '${name}'`);
  if (ctx.db !== "admin") throw new CommandError(13, `${name} may only be run against the admin database.`);
  return member;
}

function seconds(value: unknown, fallback: number, field: string): number {
  if (value === undefined || value === true) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new CommandError(2, `${field} must be a non-negative number`);
  return n;
}

const replSetGetStatus: CommandHandler = (ctx) => {
  if (!ctx.state.replica) {
    return {
      set: "rs0",
      myState: 1,
      members: [{ _id: 0, name: ctx.state.host, health: 1, state: 1, stateStr: "PRIMARY", self: true }],
      ok: 1,
    };
  }
  return replSetStatus(memberOf(ctx, "replSetGetStatus"), ctx.state);
};

const replSetGetConfig: CommandHandler = (ctx) => replSetConfig(memberOf(ctx, "replSetGetConfig"));

const replSetStepDown: CommandHandler = async (ctx) => {
  const member = memberOf(ctx, "replSetStepDown");
  const { command } = ctx;
  await member.stepDown({
    // Like mongod, a non-numeric value means 60 seconds.
    stepDownSecs:
      typeof command.replSetStepDown === "number" || typeof command.replSetStepDown === "object"
        ? seconds(command.replSetStepDown, 60, "stepdown period")
        : 60,
    secondaryCatchUpPeriodSecs: seconds(command.secondaryCatchUpPeriodSecs, 10, "secondaryCatchUpPeriodSecs"),
    force: command.force === true,
  });
  return { ok: 1 };
};

const replSetFreeze: CommandHandler = (ctx) => {
  const member = memberOf(ctx, "replSetFreeze");
  const secs = seconds(ctx.command.replSetFreeze, 0, "replSetFreeze");
  member.freeze(secs);
  return secs === 0 ? { info: "unfreezing", ok: 1 } : { ok: 1 };
};

/** shutdown: a primary steps down first (up to timeoutSecs for a secondary to catch up, unless force); no reply, the connection closes. */
const shutdown: CommandHandler = async (ctx) => {
  const member = memberOf(ctx, "shutdown");
  const timeoutSecs = seconds(ctx.command.timeoutSecs, 15, "timeoutSecs");
  await member.shutdown({ force: ctx.command.force === true, timeoutSecs });
  return CLOSE_CONNECTION;
};

/** Emulator only: `{emulatorRestartMember: "127.0.0.1:<port>"}` on admin of any running member starts a member that was shut down. */
const emulatorRestartMember: CommandHandler = async (ctx) => {
  const member = memberOf(ctx, "emulatorRestartMember");
  const host = ctx.command.emulatorRestartMember;
  const target = member.set.members.find((m) => m.host === host);
  if (!target) throw new CommandError(93, `no member of rs0 is ${String(host)}`); // InvalidReplicaSetConfig
  if (target.running) return { info: "already running", ok: 1 };
  await target.start();
  return { ok: 1 };
};

export const replSetCommands: Record<string, CommandHandler> = {
  replSetGetStatus,
  replSetGetConfig,
  replSetStepDown,
  replSetFreeze,
  shutdown,
  emulatorRestartMember,
};
