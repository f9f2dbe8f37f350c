/** createIndexes, dropIndexes, listIndexes (unique indexes, partial and sparse ones too, are enforced on insert and update). */
import { Long, type Document } from "bson";
import { CommandError } from "../errors.ts";
import type { IndexSpec } from "../store.ts";
import { checkIndexOptions, isIndexed, uniqueKeyOf } from "../index-entries.ts";
import { duplicateKey, keyValueOf } from "../writes.ts";
import { keyOf } from "../values.ts";
import type { CommandHandler } from "./context.ts";

function defaultName(key: Document): string {
  return Object.entries(key)
    .map(([field, dir]) => `${field}_${String(dir)}`)
    .join("_");
}

const createIndexes: CommandHandler = (ctx) => {
  const { command, state } = ctx;
  const name = String(command.createIndexes);
  // Specs are validated before anything is created, the collection included.
  for (const raw of (command.indexes ?? []) as Document[]) checkIndexOptions(raw as IndexSpec);
  const existed = state.store.get(ctx.db, name) !== undefined;
  const coll = state.store.ensure(ctx.db, name);
  const before = coll.indexes.length;
  const created: IndexSpec[] = [];
  for (const raw of (command.indexes ?? []) as Document[]) {
    const key = raw.key as Document;
    const spec: IndexSpec = { ...raw, v: 2, key, name: typeof raw.name === "string" ? raw.name : defaultName(key) };
    const same = coll.indexes.find((i) => i.name === spec.name);
    if (same) {
      if (keyOf(same.key) !== keyOf(spec.key)) {
        throw new CommandError(86, `An existing index has the same name as the requested index. Requested index: ${JSON.stringify(spec)}`);
      }
      continue;
    }
    if (spec.unique) {
      const seen = new Set<string>();
      for (const doc of coll.docs.values()) {
        if (!isIndexed(spec, doc)) continue;
        const k = uniqueKeyOf(spec, doc);
        if (seen.has(k)) throw duplicateKey(coll, spec, keyValueOf(spec, doc));
        seen.add(k);
      }
    }
    const ordered: IndexSpec = { v: 2, key, name: spec.name };
    for (const [k, v] of Object.entries(raw)) if (k !== "key" && k !== "name" && k !== "v") ordered[k] = v;
    coll.indexes.push(ordered);
    created.push(ordered);
  }
  if (created.length > 0) {
    state.oplog.append({
      op: "createIndexes",
      db: ctx.db,
      coll: name,
      uuid: coll.uuid,
      operationDescription: { indexes: created },
    });
  }
  const reply: Document = {
    numIndexesBefore: before,
    numIndexesAfter: coll.indexes.length,
    createdCollectionAutomatically: !existed,
    ok: 1,
  };
  if (created.length === 0) reply.note = "all indexes already exist";
  return reply;
};

const dropIndexes: CommandHandler = (ctx) => {
  const { command, state } = ctx;
  const name = String(command.dropIndexes);
  const coll = state.store.get(ctx.db, name);
  if (!coll) throw new CommandError(26, `ns not found ${ctx.db}.${name}`);
  const target = command.index;
  const names = Array.isArray(target) ? target.map(String) : [target];
  const nIndexesWas = coll.indexes.length;
  for (const wanted of names) {
    const victims =
      wanted === "*"
        ? coll.indexes.filter((i) => i.name !== "_id_")
        : coll.indexes.filter((i) => (typeof wanted === "string" ? i.name === wanted : keyOf(i.key) === keyOf(wanted)));
    if (victims.length === 0) {
      throw new CommandError(27, `index not found with name [${String(wanted)}]`);
    }
    for (const index of victims) {
      if (index.name === "_id_") throw new CommandError(72, "cannot drop _id index");
      coll.indexes = coll.indexes.filter((i) => i !== index);
      state.oplog.append({
        op: "dropIndexes",
        db: ctx.db,
        coll: name,
        uuid: coll.uuid,
        operationDescription: { indexes: [index] },
      });
    }
  }
  return { nIndexesWas, ok: 1 };
};

const listIndexes: CommandHandler = (ctx) => {
  const name = String(ctx.command.listIndexes);
  const coll = ctx.state.store.get(ctx.db, name);
  if (!coll) throw new CommandError(26, `ns does not exist: ${ctx.db}.${name}`);
  return { cursor: { id: Long.ZERO, ns: `${ctx.db}.${name}`, firstBatch: coll.indexes.map((i) => ({ ...i })) }, ok: 1 };
};

export const indexCommands: Record<string, CommandHandler> = { createIndexes, dropIndexes, listIndexes };
