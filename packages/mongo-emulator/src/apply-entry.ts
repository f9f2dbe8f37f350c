/**
 * Applying one of the primary's oplog entries to another copy of the data: a secondary's (see
 * replication.ts) or a member's majority snapshot. The entry object itself is recorded, so every
 * copy has the same times and resume tokens.
 */
import type { Document } from "bson";
import type { Oplog, OplogEntry } from "./oplog.ts";
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
