/** Which documents an index holds (partial and sparse indexes hold only some), and the options mongod accepts for that. */
import type { Document } from "bson";
import { CommandError } from "./errors.ts";
import { compileFilter, type Predicate } from "./query.ts";
import type { IndexSpec } from "./store.ts";
import { getPath, hasPath, isPlainObject, keyOf } from "./values.ts";

const compiled = new WeakMap<IndexSpec, Predicate>();

/**
 * Whether `doc` has an entry in the index: a partial index holds only the documents matching
 * its `partialFilterExpression`, a sparse one only those that have at least one key field.
 * Documents without an entry never collide on a unique index.
 */
export function isIndexed(index: IndexSpec, doc: Document): boolean {
  if (isPlainObject(index.partialFilterExpression)) {
    let predicate = compiled.get(index);
    if (!predicate) {
      predicate = compileFilter(index.partialFilterExpression);
      compiled.set(index, predicate);
    }
    return predicate(doc);
  }
  if (index.sparse === true) return Object.keys(index.key).some((field) => hasPath(doc, field));
  return true;
}

/** The key a unique index compares: a missing field counts as null, as in mongod. */
export function uniqueKeyOf(index: IndexSpec, doc: Document): string {
  return Object.keys(index.key)
    .map((field) => keyOf(getPath(doc, field) ?? null))
    .join("\u0000");
}

// Operators mongod 7.0 accepts in a partialFilterExpression (anything that negates is refused).
const FIELD_OPERATORS = new Set(["$eq", "$exists", "$gt", "$gte", "$lt", "$lte", "$type", "$in"]);

/** Refuses the index options mongod refuses, with its codes (CannotCreateIndex 67, TypeMismatch 14). */
export function checkIndexOptions(spec: IndexSpec): void {
  const filter = spec.partialFilterExpression;
  if (filter !== undefined) {
    if (!isPlainObject(filter)) throw new CommandError(14, "'partialFilterExpression' option must be a document");
    if (spec.sparse !== undefined) throw new CommandError(67, 'cannot mix "partialFilterExpression" and "sparse" options');
    checkPartialFilter(filter);
  }
  const ttl = spec.expireAfterSeconds;
  if (ttl !== undefined && (typeof ttl !== "number" || !Number.isFinite(ttl) || ttl < 0 || ttl > 2_147_483_647)) {
    throw new CommandError(67, "TTL index 'expireAfterSeconds' option must be within an acceptable range, try a lower number");
  }
}

function checkPartialFilter(filter: Document): void {
  for (const [key, value] of Object.entries(filter)) {
    if (key === "$and" || key === "$or") {
      if (!Array.isArray(value)) throw new CommandError(2, `${key} must be an array`);
      for (const clause of value) checkPartialFilter(clause as Document);
      continue;
    }
    if (key.startsWith("$")) unsupported(key);
    if (!isPlainObject(value) || !Object.keys(value).some((op) => op.startsWith("$"))) continue; // equality
    for (const [op, operand] of Object.entries(value)) {
      if (!FIELD_OPERATORS.has(op) || (op === "$exists" && operand !== true)) unsupported(op === "$exists" ? "$not" : op);
    }
  }
}

function unsupported(operator: string): never {
  throw new CommandError(67, `Expression not supported in partial index: ${operator}`);
}
