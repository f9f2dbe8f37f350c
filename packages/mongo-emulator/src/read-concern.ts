/** Which copy of the data a read sees: a majority read on a member of several reads only majority-committed writes. */
import type { Document } from "bson";
import type { CommandContext } from "./commands/context.ts";
import type { Store } from "./store.ts";

export function readStore(ctx: CommandContext): Store {
  const level = (ctx.command.readConcern as Document | undefined)?.level;
  const majority = ctx.state.majority;
  return majority && level === "majority" ? majority.store : ctx.state.store;
}
