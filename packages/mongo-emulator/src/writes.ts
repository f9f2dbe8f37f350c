/** Document-level writes: each one checks unique indexes, stores the document and logs one oplog entry. */
import { ObjectId, type Document } from "bson";
import { update as applyModifier } from "mingo";
import { CommandError } from "./errors.ts";
import { isIndexed, uniqueKeyOf } from "./index-entries.ts";
import type { Oplog } from "./oplog.ts";
import { runStages } from "./query.ts";
import type { Collection, IndexSpec } from "./store.ts";
import { describeDiff, describeOperatorUpdate } from "./update-description.ts";
import { cloneValue, getPath, keyOf, valuesEqual } from "./values.ts";

/** Returns the document with `_id` first, generating an ObjectId when missing. */
export function withIdFirst(doc: Document): Document {
  const keys = Object.keys(doc);
  if (keys[0] === "_id") return doc;
  const out: Document = { _id: "_id" in doc ? doc._id : new ObjectId() };
  for (const key of keys) if (key !== "_id") out[key] = doc[key];
  return out;
}

/** Inserts an owned document (already `_id`-first) and logs an insert event. */
export function insertDocument(oplog: Oplog, coll: Collection, doc: Document): void {
  const key = keyOf(doc._id);
  if (coll.docs.has(key)) throw duplicateKey(coll, coll.idIndex, { _id: doc._id });
  checkUniqueIndexes(coll, doc, key);
  coll.docs.set(key, doc);
  oplog.append({
    op: "insert",
    db: coll.db,
    coll: coll.name,
    uuid: coll.uuid,
    documentKey: { _id: doc._id },
    fullDocument: doc,
  });
}

/** Deletes a stored document and logs a delete event. */
export function deleteDocument(oplog: Oplog, coll: Collection, doc: Document): void {
  coll.docs.delete(keyOf(doc._id));
  oplog.append({
    op: "delete",
    db: coll.db,
    coll: coll.name,
    uuid: coll.uuid,
    documentKey: { _id: doc._id },
    ...(coll.preAndPostImages ? { preImage: doc } : {}),
  });
}

/** Whether an update document is a replacement (no `$` operators) rather than modifiers. */
export function isReplacement(update: Document | Document[]): update is Document {
  if (Array.isArray(update)) return false;
  const first = Object.keys(update)[0];
  return first === undefined || !first.startsWith("$");
}

/** Computes the updated copy of `before` (which is not modified); null when nothing changes. */
export function computeUpdate(
  before: Document,
  update: Document | Document[],
  arrayFilters: Document[] | undefined,
  inserting = false,
  filter?: Document,
): { after: Document; kind: "update" | "replace"; describe: () => ReturnType<typeof describeDiff> } | null {
  if (Array.isArray(update)) {
    const after = withIdFirst(runStages([before], update)[0] ?? {});
    checkIdUnchanged(before, after);
    return { after, kind: "update", describe: () => describeDiff(before, after) };
  }
  if (isReplacement(update)) {
    const after = withIdFirst({ ...cloneValue(update), _id: before._id });
    if ("_id" in update && !valuesEqual(update._id, before._id)) throwImmutableId(before);
    return { after, kind: "replace", describe: () => describeDiff(before, after) };
  }
  const after = cloneValue(before);
  const modified: { op: string; path: string; exact: boolean }[] = [];
  for (const [op, spec] of Object.entries(update)) {
    if (!op.startsWith("$")) throw new CommandError(9, `Unknown modifier: ${op}`);
    if (spec === null || typeof spec !== "object") {
      throw new CommandError(9, `Modifiers operate on fields but we found type ${typeof spec} instead.`);
    }
    if (op === "$setOnInsert" && !inserting) continue;
    const modifier = op === "$setOnInsert" ? { $set: spec } : { [op]: spec };
    if (op === "$push") seedMissingArrays(after, spec as Document);
    let paths: string[];
    try {
      paths = applyModifier(after, modifier, arrayFilters, inserting ? undefined : filter);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message.startsWith("Unknown update operator")) {
        throw new CommandError(
          9,
          `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
        );
      }
      throw new CommandError(2, message);
    }
    const keys = new Set(Object.keys(spec as Document));
    for (const path of paths) modified.push({ op, path, exact: keys.has(path) });
  }
  if (modified.length === 0) return null;
  checkIdUnchanged(before, after);
  return { after: withIdFirst(after), kind: "update", describe: () => describeOperatorUpdate(before, after, modified) };
}

/** mingo ignores `$slice`/`$sort` when `$push` creates the array; start from an empty one instead. */
function seedMissingArrays(doc: Document, spec: Document): void {
  for (const [path, value] of Object.entries(spec)) {
    if (getPath(doc, path) !== undefined || value === null || typeof value !== "object" || !("$each" in value)) continue;
    applyModifier(doc, { $set: { [path]: [] } });
  }
}

/** Stores the new version of a document and logs an update or replace event. */
export function commitUpdate(
  oplog: Oplog,
  coll: Collection,
  before: Document,
  change: NonNullable<ReturnType<typeof computeUpdate>>,
): void {
  const key = keyOf(before._id);
  checkUniqueIndexes(coll, change.after, key);
  coll.docs.set(key, change.after);
  const images = coll.preAndPostImages ? { preImage: before, postImage: change.after } : {};
  oplog.append({
    op: change.kind,
    db: coll.db,
    coll: coll.name,
    uuid: coll.uuid,
    documentKey: { _id: before._id },
    ...(change.kind === "replace" ? { fullDocument: change.after } : { updateDescription: change.describe() }),
    ...images,
    ...(oplog.feedsSecondaries && change.kind === "update" ? { replicatedDocument: change.after } : {}),
  });
}

/** The document an upsert starts from: the filter's equality conditions on top-level fields. */
export function upsertSeed(filter: Document | undefined): Document {
  const seed: Document = {};
  for (const [key, value] of Object.entries(filter ?? {})) {
    if (key.startsWith("$") || key.includes(".")) continue;
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const ops = Object.keys(value);
      if (ops.some((k) => k.startsWith("$"))) {
        if ("$eq" in value) seed[key] = cloneValue(value.$eq);
        continue;
      }
    }
    seed[key] = cloneValue(value);
  }
  return seed;
}

function checkIdUnchanged(before: Document, after: Document): void {
  if (!valuesEqual(before._id, after._id)) throwImmutableId(before);
}

function throwImmutableId(before: Document): never {
  throw new CommandError(66, `Performing an update on the path '_id' would modify the immutable field '_id'`, undefined, {
    _idValue: before._id,
  });
}

function checkUniqueIndexes(coll: Collection, doc: Document, ownKey: string): void {
  for (const index of coll.indexes) {
    if (!index.unique || index.name === "_id_" || !isIndexed(index, doc)) continue;
    const wanted = uniqueKeyOf(index, doc);
    for (const [otherKey, other] of coll.docs) {
      if (otherKey === ownKey || !isIndexed(index, other)) continue;
      if (uniqueKeyOf(index, other) === wanted) throw duplicateKey(coll, index, keyValueOf(index, doc));
    }
  }
}

/** The `keyValue` a duplicate key error reports: each key field, null when missing. */
export function keyValueOf(index: IndexSpec, doc: Document): Document {
  const keyValue: Document = {};
  for (const field of Object.keys(index.key)) keyValue[field] = getPath(doc, field) ?? null;
  return keyValue;
}

/** The DuplicateKey (11000) error a 7.0 server reports, with keyPattern and keyValue. */
export function duplicateKey(coll: Collection, index: IndexSpec, keyValue: Document): CommandError {
  const shown = Object.entries(keyValue)
    .map(([k, v]) => `${k}: ${formatValue(v)}`)
    .join(", ");
  return new CommandError(
    11000,
    `E11000 duplicate key error collection: ${coll.db}.${coll.name} index: ${index.name} dup key: { ${shown} }`,
    undefined,
    { keyPattern: index.key, keyValue },
  );
}

function formatValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof ObjectId) return `ObjectId('${value.toHexString()}')`;
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return String(value);
}
