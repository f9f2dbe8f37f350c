/**
 * mongod's `local` database on a member of several, as far as mongosh's rs helpers read it:
 * `system.replset` (the config) and `oplog.rs` (this member's oplog entries, in mongod's shape),
 * refreshed when read. Neither is replicated nor logged.
 */
import { Long, type Document } from "bson";
import type { OplogEntry } from "./oplog.ts";
import type { EmulatorState } from "./state.ts";

/** What `$collStats` reports as the oplog's configured size (mongod's default is 5% of the disk). */
export const OPLOG_MAX_SIZE = 1024 * 1024 * 1024;

const OP_CODES: Record<string, string> = { insert: "i", update: "u", replace: "u", delete: "d" };

/** One oplog entry as a document of local.oplog.rs. */
function oplogDocument(entry: OplogEntry, term: number): Document {
  const op = OP_CODES[entry.op] ?? "c";
  const doc: Document = { op, ns: op === "c" ? `${entry.db}.$cmd` : `${entry.db}.${entry.coll}` };
  if (entry.uuid) doc.ui = entry.uuid;
  if (entry.op === "insert" || entry.op === "replace") doc.o = entry.fullDocument;
  else if (entry.op === "update") {
    const description = entry.updateDescription;
    doc.o = {
      $v: 2,
      diff: { u: description?.updatedFields ?? {}, d: Object.fromEntries((description?.removedFields ?? []).map((f) => [f, false])) },
    };
  } else if (entry.op === "delete") doc.o = entry.documentKey;
  else doc.o = { [entry.op]: entry.coll ?? 1, ...(entry.operationDescription ?? {}) };
  if (op === "u") doc.o2 = entry.documentKey;
  doc.ts = entry.clusterTime;
  doc.t = Long.fromNumber(entry.term ?? term);
  doc.v = Long.fromNumber(2);
  doc.wall = entry.wallTime;
  return doc;
}

/** Brings local.system.replset and local.oplog.rs up to date before a read of `local`. */
export function refreshLocalDatabase(state: EmulatorState, db: string): void {
  const member = state.replica;
  if (!member || db !== "local") return;
  const { oplog } = state;
  const entries: Document[] = [];
  for (let seq = oplog.firstSeq; seq < oplog.endSeq; seq++) {
    const entry = oplog.at(seq);
    if (entry) entries.push(oplogDocument(entry, member.set.term));
  }
  state.store.putUnlogged("local", "oplog.rs", entries, { capped: true, size: OPLOG_MAX_SIZE });
}
