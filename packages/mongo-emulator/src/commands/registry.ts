/** Every command the emulator answers, by name. */
import type { CommandHandler } from "./context.ts";
import { adminCommands } from "./admin.ts";
import { aggregateCommands } from "./aggregate.ts";
import { ddlCommands } from "./ddl.ts";
import { findAndModifyCommands } from "./find-and-modify.ts";
import { findCommands } from "./find.ts";
import { handshakeCommands } from "./handshake.ts";
import { indexCommands } from "./indexes.ts";
import { writeCommands } from "./write.ts";
import { replSetCommands } from "./repl-set.ts";
import { statsCommands } from "./stats.ts";

export const commandHandlers: Record<string, CommandHandler> = {
  ...handshakeCommands,
  ...writeCommands,
  ...findCommands,
  ...findAndModifyCommands,
  ...aggregateCommands,
  ...ddlCommands,
  ...indexCommands,
  ...adminCommands,
  ...replSetCommands,
  ...statsCommands,
};
