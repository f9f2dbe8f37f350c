/**
 * How a secondary copies the primary: it applies the primary's oplog entries in order (the very
 * same entry objects, so every member has the same times and resume tokens), or, when it cannot
 * continue from where it is (a new member, a restart, history it lacks or that the primary never
 * had), it copies the primary's data and oplog whole, like mongod's initial sync after a rollback.
 */
import { applyEntry } from "./apply-entry.ts";
import type { Oplog } from "./oplog.ts";
import type { EmulatorState } from "./state.ts";

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
