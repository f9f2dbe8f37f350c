/** The `failCommand` fail point of a mongod started with test commands enabled. */
import type { Document } from "bson";
import { CommandError } from "./errors.ts";

/** The `data` of `{configureFailPoint: "failCommand", mode, data}`. */
export interface FailCommandData {
  failCommands: string[];
  errorCode?: number;
  errmsg?: string;
  errorLabels?: string[];
  closeConnection?: boolean;
  blockConnection?: boolean;
  blockTimeMS?: number;
  writeConcernError?: Document;
  appName?: string;
}

type Mode = { kind: "alwaysOn" } | { kind: "times"; remaining: number } | { kind: "skip"; remaining: number };

/** Holds the active fail point and decides, per command, whether it fires. */
export class FailPoints {
  #mode: Mode | null = null;
  #data: FailCommandData | null = null;
  #timesEntered = 0;

  /** Handles the `configureFailPoint` command. */
  configure(command: Document): Document {
    const name = command.configureFailPoint;
    if (name !== "failCommand") {
      throw new CommandError(2, `Unknown fail point: ${String(name)} (only failCommand is emulated)`);
    }
    const previous = this.#timesEntered;
    const mode = command.mode as unknown;
    if (mode === "off") {
      this.#mode = null;
      this.#data = null;
      return { count: previous, ok: 1 };
    }
    if (mode === "alwaysOn") this.#mode = { kind: "alwaysOn" };
    else if (typeof mode === "object" && mode !== null && "times" in mode) {
      this.#mode = { kind: "times", remaining: Number((mode as Document).times) };
    } else if (typeof mode === "object" && mode !== null && "skip" in mode) {
      this.#mode = { kind: "skip", remaining: Number((mode as Document).skip) };
    } else throw new CommandError(2, `Invalid fail point mode: ${JSON.stringify(mode)}`);
    const data = (command.data ?? {}) as Document;
    if (!Array.isArray(data.failCommands)) {
      this.#mode = null;
      throw new CommandError(2, "failCommand fail point requires data.failCommands to be an array");
    }
    this.#data = data as FailCommandData;
    this.#timesEntered = 0;
    return { count: previous, ok: 1 };
  }

  /** The fail point's data when it fires for this command (consuming one activation), else null. */
  check(commandName: string, appName: string | undefined): FailCommandData | null {
    const data = this.#data;
    const mode = this.#mode;
    if (!data || !mode || commandName === "configureFailPoint") return null;
    if (!data.failCommands.includes(commandName)) return null;
    if (data.appName !== undefined && data.appName !== appName) return null;
    if (mode.kind === "skip") {
      if (mode.remaining > 0) {
        mode.remaining--;
        return null;
      }
    } else if (mode.kind === "times") {
      if (mode.remaining <= 0) return null;
      mode.remaining--;
      if (mode.remaining === 0) {
        this.#mode = null;
        this.#data = null;
      }
    }
    this.#timesEntered++;
    return data;
  }
}
