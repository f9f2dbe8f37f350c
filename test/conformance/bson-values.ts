import { EJSON } from "bson";

/** BSON wrapper classes (ObjectId, Int32, Long, ...) carry a `_bsontype` tag. */
interface BsonWrapper {
  _bsontype: string;
}

export type Document = Record<string, unknown>;

export function isBsonWrapper(value: unknown): value is BsonWrapper {
  return typeof value === "object" && value !== null && "_bsontype" in value;
}

/** A BSON embedded document: a plain object or a Map, never an array or a BSON wrapper. */
export function isDocument(value: unknown): value is Document {
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value) || isBsonWrapper(value)) return false;
  return !(value instanceof Date || value instanceof RegExp || value instanceof Uint8Array);
}

/** Field names of a document, skipping `undefined` values (the driver's stand-in for "unset"). */
export function documentEntries(doc: Document | Map<string, unknown>): [string, unknown][] {
  const entries = doc instanceof Map ? [...doc.entries()] : Object.entries(doc);
  return entries.filter(([, value]) => value !== undefined);
}

export function getField(doc: Document | Map<string, unknown>, key: string): unknown {
  return doc instanceof Map ? doc.get(key) : Object.hasOwn(doc, key) ? doc[key] : undefined;
}

/** Numeric value of int/long/double (JS number, bigint, Int32, Double, Long); undefined otherwise. */
export function numericValue(value: unknown): number | bigint | undefined {
  if (typeof value === "number" || typeof value === "bigint") return value;
  if (!isBsonWrapper(value)) return undefined;
  const tagged = value as BsonWrapper & { value?: number; toBigInt?: () => bigint };
  if (tagged._bsontype === "Int32" || tagged._bsontype === "Double") return tagged.value;
  if (tagged._bsontype === "Long") return tagged.toBigInt?.();
  return undefined;
}

/** Compares two int/long/double values by numeric value (the spec's flexible numerics). */
export function compareNumbers(a: number | bigint, b: number | bigint): number {
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  // Exact for integers beyond 2^53 when one side is a non-integral double.
  if (typeof a === "bigint" && Number.isInteger(b)) return compareNumbers(a, BigInt(b));
  if (typeof b === "bigint" && Number.isInteger(a)) return compareNumbers(BigInt(a), b);
  const x = Number(a);
  const y = Number(b);
  if (Number.isNaN(x) && Number.isNaN(y)) return 0;
  return x < y ? -1 : x > y ? 1 : x === y ? 0 : Number.NaN;
}

const WRAPPER_TYPES: Record<string, string> = {
  ObjectId: "objectId",
  Int32: "int",
  Double: "double",
  Long: "long",
  Decimal128: "decimal",
  Timestamp: "timestamp",
  Binary: "binData",
  BSONRegExp: "regex",
  BSONSymbol: "symbol",
  MinKey: "minKey",
  MaxKey: "maxKey",
  DBRef: "object",
  DBPointer: "dbPointer",
};

/**
 * The `$type` alias of a value. A plain JS number is reported as int (int32-range integer)
 * or double; see possibleBsonTypes for what a promoted number may have been on the wire.
 */
export function bsonTypeOf(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "bigint") return "long";
  if (typeof value === "number") {
    return Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31 ? "int" : "double";
  }
  if (Array.isArray(value)) return "array";
  if (value instanceof Date) return "date";
  if (value instanceof RegExp) return "regex";
  if (value instanceof Uint8Array) return "binData";
  if (isBsonWrapper(value)) {
    if (value._bsontype === "Code") {
      return (value as { scope?: unknown }).scope ? "javascriptWithScope" : "javascript";
    }
    return WRAPPER_TYPES[value._bsontype] ?? value._bsontype;
  }
  return "object";
}

/**
 * The BSON types a deserialized value may have had. The driver promotes int32, int64 and
 * double to JS numbers (keeping them as wrappers would change its own error handling), so an
 * integral number may have been any of the three, and any other number a double.
 */
export function possibleBsonTypes(value: unknown): string[] {
  if (typeof value !== "number") return [bsonTypeOf(value)];
  if (!Number.isInteger(value)) return ["double"];
  return bsonTypeOf(value) === "int" ? ["int", "long", "double"] : ["long", "double"];
}

/** Short Extended JSON rendering for failure messages. */
export function describe(value: unknown): string {
  if (value === undefined) return "(unset)";
  if (value instanceof Uint8Array) return `bytes ${Buffer.from(value).toString("hex")}`;
  try {
    const text = EJSON.stringify(value, { relaxed: true });
    return text.length > 300 ? `${text.slice(0, 300)}…` : text;
  } catch {
    return String(value);
  }
}

/** The name of a `{ $$op: ... }` value's single `$$` key, or undefined. */
export function specialOperatorName(value: unknown): string | undefined {
  if (!isDocument(value) || value instanceof Map) return undefined;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0]?.startsWith("$$") ? keys[0] : undefined;
}
