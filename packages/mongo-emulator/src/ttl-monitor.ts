/**
 * mongod's TTL monitor: a background pass every `ttlMonitorSleepSecs` (60 s by default) deletes
 * the documents of every TTL index whose date has passed by `expireAfterSeconds`. Deletes are
 * ordinary deletes (change streams see them). A new interval takes effect at once (SERVER-70055).
 */
import type { Document } from "bson";
import { isIndexed } from "./index-entries.ts";
import type { Collection, IndexSpec, Store } from "./store.ts";
import { deleteDocument } from "./writes.ts";
import { getPath } from "./values.ts";

export const DEFAULT_TTL_MONITOR_INTERVAL_MS = 60_000;

export class TtlMonitor {
  #intervalMs: number;
  #enabled = true;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  /** Completed passes, for tests that wait for one. */
  passes = 0;

  constructor(
    private readonly store: Store,
    intervalMs = DEFAULT_TTL_MONITOR_INTERVAL_MS,
    /** Whether this member deletes now (only a primary does). */
    private readonly active: () => boolean = () => true,
  ) {
    this.#intervalMs = intervalMs;
    this.#schedule();
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  set intervalMs(ms: number) {
    this.#intervalMs = ms;
    this.#schedule();
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  set enabled(on: boolean) {
    this.#enabled = on;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** One pass over every TTL index of every collection. */
  runPass(now = Date.now()): void {
    for (const db of this.store.databaseNames()) {
      for (const coll of this.store.collections(db)) {
        if (coll.options.capped === true) continue; // mongod never expires documents of capped collections
        for (const index of coll.indexes) if (isTtlIndex(index)) this.#expire(coll, index, now);
      }
    }
    this.passes++;
  }

  #expire(coll: Collection, index: IndexSpec, now: number): void {
    const [field] = Object.keys(index.key);
    if (field === undefined) return; // isTtlIndex holds exactly one key field
    const cutoff = now - (index.expireAfterSeconds as number) * 1000;
    const expired: Document[] = [];
    for (const doc of coll.docs.values()) {
      if (!isIndexed(index, doc)) continue;
      const at = earliestDate(getPath(doc, field));
      if (at !== undefined && at < cutoff) expired.push(doc);
    }
    for (const doc of expired) deleteDocument(this.store.oplog, coll, doc);
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      if (this.#enabled && this.active()) this.runPass();
      this.#schedule();
    }, this.#intervalMs);
    this.#timer.unref();
  }
}

/** mongod applies expireAfterSeconds only to single-field indexes other than _id (compound TTL options are ignored). */
function isTtlIndex(index: IndexSpec): boolean {
  return typeof index.expireAfterSeconds === "number" && index.name !== "_id_" && Object.keys(index.key).length === 1;
}

/** A date field expires by its value; an array of dates by its earliest; anything else never expires. */
function earliestDate(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (!Array.isArray(value)) return undefined;
  const dates = value.filter((item): item is Date => item instanceof Date).map((date) => date.getTime());
  return dates.length > 0 ? Math.min(...dates) : undefined;
}
