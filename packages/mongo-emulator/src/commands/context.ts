/** What a command handler receives, and what it may answer. */
import type { Document } from "bson";
import type { EmulatorState } from "../state.ts";

/** Per-connection state, kept on the connection. */
export interface ConnectionInfo {
  readonly id: number;
  /** `client.application.name` from the handshake (used by failCommand's appName filter). */
  appName?: string;
  /** Closes the socket without replying. */
  close(): void;
  /** Aborted when the connection closes (ends waits early). */
  readonly signal: AbortSignal;
}

export interface CommandContext {
  state: EmulatorState;
  connection: ConnectionInfo;
  /** `$db` of the command. */
  db: string;
  command: Document;
  /** The OP_MSG exhaustAllowed bit was set. */
  exhaustAllowed: boolean;
}

/** Marker reply meaning "close the connection without answering". */
export const CLOSE_CONNECTION: Document = Object.freeze({});

export type CommandHandler = (ctx: CommandContext) => Document | Promise<Document>;
