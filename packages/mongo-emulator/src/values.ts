/** Helpers for BSON values held as deserialized JS values: deep copies, equality and index keys. */
import { EJSON, type Document } from "bson";

/** True for a plain JS object (a BSON embedded document), false for BSON value classes, Dates, arrays. */
export function isPlainObject(value: unknown): value is Document {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Deep copy of documents and arrays; BSON value objects are immutable in practice and shared. */
export function cloneValue<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneValue) as T;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (isPlainObject(value)) {
    const out: Document = {};
    for (const key of Object.keys(value)) out[key] = cloneValue(value[key]);
    return out as T;
  }
  return value;
}

/** A string that is equal for BSON-equal values (used as unique index keys). */
export function keyOf(value: unknown): string {
  switch (typeof value) {
    case "string":
      return `s${value}`;
    case "number":
      return `n${value}`;
    case "boolean":
      return `b${value}`;
    case "undefined":
      return "u";
  }
  if (value === null) return "z";
  const bsontype = (value as { _bsontype?: string })._bsontype;
  if (bsontype === "ObjectId") return `o${(value as { toHexString(): string }).toHexString()}`;
  if (bsontype === "Long" || bsontype === "Int32" || bsontype === "Double") return `n${Number(value)}`;
  return `j${EJSON.stringify(value as Document, { relaxed: true })}`;
}

/** BSON-style equality (field order matters in documents, like the server's binary comparison). */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  return keyOf(a) === keyOf(b);
}

/** Reads a dotted path (`a.b.0.c`) without array traversal semantics. */
export function getPath(doc: unknown, path: string): unknown {
  let current: unknown = doc;
  for (const part of path.split(".")) {
    if (Array.isArray(current)) current = current[Number(part)];
    else if (typeof current === "object" && current !== null) current = (current as Document)[part];
    else return undefined;
  }
  return current;
}

/** Whether a dotted path exists in the document. */
export function hasPath(doc: unknown, path: string): boolean {
  const parts = path.split(".");
  let current: unknown = doc;
  for (const part of parts) {
    if (typeof current !== "object" || current === null || !(part in (current as Document))) return false;
    current = (current as Document)[part];
  }
  return true;
}
