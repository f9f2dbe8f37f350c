/**
 * Retryable writes: the reply of each (lsid, txnNumber) write is remembered so a driver retry
 * (after a network error or a RetryableWriteError) gets the first result instead of applying the
 * write twice, like mongod's session transaction table.
 */
import type { Document } from "bson";
import type { OpTime } from "./cluster-clock.ts";

/** A write's reply and the time of its last oplog entry. */
interface Remembered {
  reply: Document;
  time: OpTime;
}

const RETRYABLE_COMMANDS = new Set(["insert", "update", "delete", "findAndModify"]);
const CAPACITY = 10_000;

export class RetryableWrites {
  // Two generations instead of evicting one by one: Map head deletions leave tombstones that
  // make `keys().next()` slow.
  #current = new Map<string, Remembered>();
  #previous = new Map<string, Remembered>();

  /** The key of a retryable write (has lsid and txnNumber, not in a transaction), else undefined. */
  keyOf(name: string, command: Document): string | undefined {
    if (!RETRYABLE_COMMANDS.has(name) || command.txnNumber === undefined || command.autocommit !== undefined) {
      return undefined;
    }
    const id = (command.lsid as Document | undefined)?.id as { toString(encoding: "hex"): string } | undefined;
    return id ? `${id.toString("hex")}:${String(command.txnNumber)}` : undefined;
  }

  /**
   * A copy of the remembered reply, if this write already ran; in a replica set (whose members
   * share this table) only where `holds` says the member has the write (else it was rolled back).
   */
  replay(key: string, holds?: (time: OpTime) => boolean): Document | undefined {
    const remembered = this.#current.get(key) ?? this.#previous.get(key);
    if (!remembered || (holds && !holds(remembered.time))) return undefined;
    return { ...remembered.reply };
  }

  remember(key: string, reply: Document, time: OpTime): void {
    if (reply.ok !== 1) return;
    this.#current.set(key, { reply: { ...reply }, time });
    if (this.#current.size >= CAPACITY / 2) {
      this.#previous = this.#current;
      this.#current = new Map();
    }
  }
}
