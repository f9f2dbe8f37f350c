/**
 * How a secondary copies the primary: it applies the primary's oplog entries in order (the very
 * same entry objects, so every member has the same times and resume tokens), or, when it cannot
 * continue from where it is (a new member, a restart, history it lacks or that the primary never
 * had), it copies the primary's data and oplog whole, like mongod's initial sync after a rollback.
 */
import type { Document } from "bson";
import type { Oplog, OplogEntry } from "./oplog.ts";
import type { EmulatorState } from "./state.ts";
import type { Collection, Store } from "./store.ts";
import { keyOf } from "./values.ts";

/** Applies one of the primary's entries to a secondary's data (or a majority snapshot) and records it in its oplog. */
export function applyEntry(store: Store, oplog: Oplog, entry: OplogEntry): void {
  oplog.replay(entry, () => {
    const coll: Collection | undefined = entry.coll === undefined ? undefined : store.get(entry.db, entry.coll);
    const key = entry.documentKey === undefined ? "" : keyOf(entry.documentKey._id);
    const description = (entry.operationDescription ?? {}) as Document;
    switch (entry.op) {
      case "insert":
      case "replace":
        if (coll && entry.fullDocument) coll.docs.set(key, entry.fullDocument);
        return;
      case "update":
        if (coll && entry.replicatedDocument) coll.docs.set(key, entry.replicatedDocument);
        return;
      case "delete":
        coll?.docs.delete(key);
        return;
      case "create": {
        const { idIndex: _idIndex, ...options } = description;
        const created = store.create(entry.db, entry.coll ?? "", options);
        if (entry.uuid) created.uuid = entry.uuid;
        return;
      }
      case "drop":
        store.drop(entry.db, entry.coll ?? "");
        return;
      case "dropDatabase":
        store.dropDatabase(entry.db);
        return;
      case "rename":
        if (entry.to) store.rename([entry.db, entry.coll ?? ""], [entry.to.db, entry.to.coll], false);
        return;
      case "createIndexes":
        if (coll) coll.indexes.push(...((description.indexes ?? []) as Collection["indexes"]));
        return;
      case "dropIndexes": {
        const names = new Set(((description.indexes ?? []) as Document[]).map((index) => index.name));
        if (coll) coll.indexes = coll.indexes.filter((index) => !names.has(index.name));
        return;
      }
      case "modify":
        if (coll) for (const [name, value] of Object.entries(description)) if (name !== "index") coll.options[name] = value;
        return;
    }
  });
}

/** Whether `target` can continue from `source`'s oplog: its newest entry is one of source's retained entries. */
export function canContinue(target: Oplog, source: Oplog): boolean {
  const own = target.at(target.endSeq - 1);
  if (!own) return target.endSeq === 0 && source.firstSeq === 0;
  const seq = source.seqAfter(own.time) - 1;
  return seq >= source.firstSeq && source.at(seq) === own;
}

/** Replaces the target's data and history with a copy of the source's; its cursors die (clients resume elsewhere). */
export function initialSync(target: EmulatorState, source: EmulatorState): void {
  target.cursors.killAll();
  target.store.copyFrom(source.store);
  target.oplog.copyFrom(source.oplog);
  if (target.majority && source.majority) target.majority.copyFrom(source.majority);
}

/** Applies what `target` lacks of `source`'s oplog, up to entries not yet `dueBy` (a replication delay); returns the next due time. */
export function catchUp(target: EmulatorState, source: EmulatorState, delayMs: number): number | undefined {
  if (!canContinue(target.oplog, source.oplog)) initialSync(target, source);
  const now = Date.now();
  for (let seq = target.oplog.endSeq === 0 ? source.oplog.firstSeq : source.oplog.seqAfter(target.oplog.lastTime); ; seq++) {
    const entry = source.oplog.at(seq);
    if (!entry) return undefined;
    const due = entry.wallTime.getTime() + delayMs;
    if (due > now) return due;
    try {
      applyEntry(target.store, target.oplog, entry);
    } catch {
      // Already so on this member (e.g. an existing collection): the entry is recorded all the same.
    }
  }
}
