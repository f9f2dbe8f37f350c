/** Fail points of a mongod started with test commands: `failCommand` and `failGetMoreAfterCursorCheckout`. */
import type { Document } from "bson";
import { CommandError } from "./errors.ts";

/** The `data` of `{configureFailPoint: "failCommand", mode, data}`. */
export interface FailCommandData {
  failCommands?: string[];
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

/** stopReplProducer (alwaysOn/off): a secondary of a multi-member set stops applying the primary's oplog. */
const SUPPORTED = new Set(["failCommand", "failGetMoreAfterCursorCheckout", "stopReplProducer"]);

interface ActiveFailPoint {
  mode: Mode;
  data: FailCommandData;
}

/** Holds the active fail points and decides, per command, whether one fires. */
export class FailPoints {
  readonly #active = new Map<string, ActiveFailPoint>();
  readonly #timesEntered = new Map<string, number>();

  /** Handles the `configureFailPoint` command. */
  configure(command: Document): Document {
    const name = String(command.configureFailPoint);
    if (!SUPPORTED.has(name)) throw new CommandError(2, `Unknown fail point: ${name}`);
    const count = this.#timesEntered.get(name) ?? 0;
    const mode = command.mode as unknown;
    if (mode === "off") {
      this.#active.delete(name);
      return { count, ok: 1 };
    }
    const data = (command.data ?? {}) as FailCommandData;
    if (name === "failCommand" && !Array.isArray(data.failCommands)) {
      throw new CommandError(2, "failCommand fail point requires data.failCommands to be an array");
    }
    this.#active.set(name, { mode: parseMode(mode), data });
    this.#timesEntered.set(name, 0);
    return { count, ok: 1 };
  }

  /** Whether a fail point that needs no data (stopReplProducer) is on. */
  isActive(name: string): boolean {
    return this.#active.has(name);
  }

  /** failCommand's data when it fires for this command (consuming one activation), else null. */
  check(commandName: string, appName: string | undefined): FailCommandData | null {
    const active = this.#active.get("failCommand");
    if (!active || commandName === "configureFailPoint") return null;
    const { data } = active;
    if (!data.failCommands?.includes(commandName)) return null;
    if (data.appName !== undefined && data.appName !== appName) return null;
    return this.#fire("failCommand", active);
  }

  /** failGetMoreAfterCursorCheckout's data when it fires for this getMore, else null. */
  checkGetMoreAfterCheckout(): FailCommandData | null {
    const active = this.#active.get("failGetMoreAfterCursorCheckout");
    return active ? this.#fire("failGetMoreAfterCursorCheckout", active) : null;
  }

  #fire(name: string, active: ActiveFailPoint): FailCommandData | null {
    const { mode } = active;
    if (mode.kind === "skip" && mode.remaining > 0) {
      mode.remaining--;
      return null;
    }
    if (mode.kind === "times") {
      mode.remaining--;
      if (mode.remaining <= 0) this.#active.delete(name);
    }
    this.#timesEntered.set(name, (this.#timesEntered.get(name) ?? 0) + 1);
    return active.data;
  }
}

function parseMode(mode: unknown): Mode {
  if (mode === "alwaysOn") return { kind: "alwaysOn" };
  if (typeof mode === "object" && mode !== null) {
    const m = mode as Document;
    if (m.times !== undefined && Number(m.times) > 0) return { kind: "times", remaining: Number(m.times) };
    if (m.skip !== undefined) return { kind: "skip", remaining: Number(m.skip) };
  }
  throw new CommandError(2, `Invalid fail point mode: ${JSON.stringify(mode)}`);
}
