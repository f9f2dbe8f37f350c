/** Test and session commands: configureFailPoint, transactions (accepted, not isolated). */
import type { CommandHandler } from "./context.ts";
import { CommandError } from "../errors.ts";

export const adminCommands: Record<string, CommandHandler> = {
  configureFailPoint: (ctx) => {
    if (ctx.db !== "admin") throw new CommandError(13, "configureFailPoint may only be run against the admin database.");
    const reply = ctx.state.failPoints.configure(ctx.command);
    ctx.state.replica?.set.replicate(); // stopReplProducer switched off: catch up at once
    return reply;
  },
  commitTransaction: () => ({ ok: 1 }),
  abortTransaction: () => ({ ok: 1 }),
};
