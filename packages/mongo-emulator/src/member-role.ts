/** What a secondary refuses, with mongod's codes: writes (NotWritablePrimary) and reads not marked secondaryOk. */
import type { Document } from "bson";
import type { CommandContext } from "./commands/context.ts";
import { CommandError } from "./errors.ts";

/** Commands that write (and, on a primary of several members, wait for their write concern). */
export const WRITE_COMMANDS = new Set([
  "insert",
  "update",
  "delete",
  "findAndModify",
  "findandmodify",
  "create",
  "drop",
  "dropDatabase",
  "renameCollection",
  "collMod",
  "createIndexes",
  "dropIndexes",
]);

/** Reads a secondary serves only with a non-primary read preference (getMore of an open cursor always works). */
const READ_COMMANDS = new Set([
  "find",
  "aggregate",
  "count",
  "distinct",
  "listCollections",
  "listIndexes",
  "listDatabases",
  "dbStats",
  "collStats",
]);

/** OP_MSG carries secondaryOk as `$readPreference` with a mode other than primary. */
function secondaryOk(command: Document): boolean {
  const mode = (command.$readPreference as Document | undefined)?.mode;
  return typeof mode === "string" && mode !== "primary";
}

/** Throws what mongod answers when this command cannot run on this member now. */
export function checkMemberRole(ctx: CommandContext, name: string): void {
  const member = ctx.state.replica;
  if (!member) return;
  if (WRITE_COMMANDS.has(name) && (!member.isPrimary() || member.steppingDown)) throw new CommandError(10107, "not primary");
  if (member.isPrimary() || ctx.db === "local") return; // a member's own local database is readable anywhere
  if (READ_COMMANDS.has(name) && !secondaryOk(ctx.command)) throw new CommandError(13435, "not primary and secondaryOk=false");
}
