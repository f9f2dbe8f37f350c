/**
 * Retryable writes: the reply of each (lsid, txnNumber) write is remembered so a driver retry
 * (after a network error or a RetryableWriteError) gets the first result instead of applying the
 * write twice, like mongod's session transaction table.
 */
import type { Document } from "bson";

const RETRYABLE_COMMANDS = new Set(["insert", "update", "delete", "findAndModify"]);
const CAPACITY = 10_000;

export class RetryableWrites {
  // Two generations instead of evicting one by one: Map head deletions leave tombstones that
  // make `keys().next()` slow.
  #current = new Map<string, Document>();
  #previous = new Map<string, Document>();

  /** The key of a retryable write (has lsid and txnNumber, not in a transaction), else undefined. */
  keyOf(name: string, command: Document): string | undefined {
    if (!RETRYABLE_COMMANDS.has(name) || command.txnNumber === undefined || command.autocommit !== undefined) {
      return undefined;
    }
    const id = (command.lsid as Document | undefined)?.id as { toString(encoding: "hex"): string } | undefined;
    return id ? `${id.toString("hex")}:${String(command.txnNumber)}` : undefined;
  }

  /** A copy of the remembered reply, if this write already ran. */
  replay(key: string): Document | undefined {
    const reply = this.#current.get(key) ?? this.#previous.get(key);
    return reply ? { ...reply } : undefined;
  }

  remember(key: string, reply: Document): void {
    if (reply.ok !== 1) return;
    this.#current.set(key, { ...reply });
    if (this.#current.size >= CAPACITY / 2) {
      this.#previous = this.#current;
      this.#current = new Map();
    }
  }
}
