/**
 * What `readConcern: {level: "majority"}` reads on a member of several: a second copy of the data
 * that holds only the member's majority-committed writes (documents are shared, never mutated in place).
 */
import type { ClusterClock } from "./cluster-clock.ts";
import { Oplog } from "./oplog.ts";
import { applyEntry } from "./apply-entry.ts";
import { Store } from "./store.ts";

export class MajoritySnapshot {
  /** Only the snapshot's own bookkeeping: it keeps the last entry, never read. */
  readonly #oplog: Oplog;
  readonly store: Store;
  /** The next sequence number of the member's oplog to apply. */
  #nextSeq = 0;

  constructor(clock: ClusterClock) {
    this.#oplog = new Oplog(1, clock);
    this.store = new Store(this.#oplog);
  }

  /** Applies the member's entries that became majority-committed. */
  advance(oplog: Oplog): void {
    const end = oplog.readableEndSeq;
    for (let seq = Math.max(this.#nextSeq, oplog.firstSeq); seq < end; seq++) {
      const entry = oplog.at(seq);
      if (!entry) break;
      try {
        applyEntry(this.store, this.#oplog, entry);
      } catch {
        // Already so in the snapshot.
      }
    }
    this.#nextSeq = Math.max(this.#nextSeq, end);
  }

  /** Copies another member's snapshot (an initial sync). */
  copyFrom(source: MajoritySnapshot): void {
    this.store.copyFrom(source.store);
    this.#nextSeq = source.#nextSeq;
  }
}
