import { EJSON } from "bson";
import {
  bsonTypeOf,
  compareNumbers,
  describe,
  documentEntries,
  getField,
  isBsonWrapper,
  isDocument,
  numericValue,
  possibleBsonTypes,
  type Document,
} from "./bson-values";
import { NOT_SUPPORTED } from "./failures";

/** Where and why an actual value differs from the expected one. */
export interface Mismatch {
  path: string;
  message: string;
}

/** Entity look-ups needed by `$$matchesEntity` and `$$sessionLsid`. */
export interface MatchEntities {
  bsonEntity(name: string): unknown;
  sessionLsid(name: string): unknown;
}

export interface MatchOptions {
  /** Root-level documents may hold fields the expected document does not name. */
  root: boolean;
  /** For iterable results (find, aggregate): each array element is a root-level document. */
  elementsAreRoot?: boolean;
  /** Numbers must also have the same BSON type (outcome data "MUST match exactly"). */
  exactTypes?: boolean;
  entities?: MatchEntities;
}

/** Thrown for malformed expectations (unknown operator, missing entity): a runner error, not a mismatch. */
export class MatchSyntaxError extends Error {}

/** Matches `actual` against `expected` per "Evaluating Matches"; returns the first mismatch or null. */
export function match(expected: unknown, actual: unknown, options: MatchOptions): Mismatch | null {
  const { root, elementsAreRoot = false, entities, exactTypes = false } = options;
  if (elementsAreRoot && Array.isArray(expected)) {
    if (!Array.isArray(actual)) return fail("$", `expected an array, got ${describe(actual)}`);
    if (actual.length !== expected.length) {
      return fail("$", `expected ${expected.length} documents, got ${actual.length}: ${describe(actual)}`);
    }
    for (const [index, item] of expected.entries()) {
      const mismatch = new Matcher(entities, exactTypes).value(item, actual[index], `$[${index}]`, true);
      if (mismatch) return mismatch;
    }
    return null;
  }
  return new Matcher(entities, exactTypes).value(expected, actual, "$", root);
}

function fail(path: string, message: string): Mismatch {
  return { path, message };
}

/** `{ $$op: arg }` with a single `$$` key, or undefined. */
export function specialOperator(value: unknown): { name: string; arg: unknown } | undefined {
  if (!isDocument(value) || value instanceof Map) return undefined;
  const keys = Object.keys(value);
  const [name] = keys;
  if (keys.length !== 1 || name === undefined || !name.startsWith("$$")) return undefined;
  return { name, arg: value[name] };
}

class Matcher {
  constructor(
    private readonly entities: MatchEntities | undefined,
    private readonly exactTypes: boolean,
  ) {}

  value(expected: unknown, actual: unknown, path: string, root: boolean): Mismatch | null {
    const operator = specialOperator(expected);
    if (operator) return this.operator(operator.name, operator.arg, actual, path, root);
    if (Array.isArray(expected)) return this.array(expected, actual, path);
    if (isDocument(expected)) return this.document(expected, actual, path, root);
    return this.scalar(expected, actual, path);
  }

  private document(expected: Document, actual: unknown, path: string, root: boolean): Mismatch | null {
    if (!isDocument(actual)) return fail(path, `expected a document, got ${describe(actual)}`);
    for (const [key, expectedValue] of Object.entries(expected)) {
      const keyPath = `${path}.${key}`;
      const actualValue = getField(actual, key);
      const operator = specialOperator(expectedValue);
      // Key-based operators may accept an absent field.
      if (operator?.name === "$$exists") {
        if (typeof operator.arg !== "boolean") throw new MatchSyntaxError(`${keyPath}: $$exists needs a boolean`);
        const exists = actualValue !== undefined;
        if (exists !== operator.arg) {
          return fail(
            keyPath,
            operator.arg ? "expected field to exist, it is unset" : `expected field to be unset, got ${describe(actualValue)}`,
          );
        }
        continue;
      }
      if (operator?.name === "$$unsetOrMatches" && actualValue === undefined) continue;
      if (actualValue === undefined) return fail(keyPath, `expected ${describe(expectedValue)}, field is unset`);
      const mismatch = this.value(expectedValue, actualValue, keyPath, false);
      if (mismatch) return mismatch;
    }
    if (!root) {
      const extra = documentEntries(actual)
        .map(([key]) => key)
        .filter((key) => !Object.hasOwn(expected, key));
      if (extra.length > 0) {
        return fail(path, `unexpected extra field(s) ${extra.join(", ")} in nested document ${describe(actual)}`);
      }
    }
    return null;
  }

  private array(expected: unknown[], actual: unknown, path: string): Mismatch | null {
    if (!Array.isArray(actual)) return fail(path, `expected an array, got ${describe(actual)}`);
    if (actual.length !== expected.length) {
      return fail(path, `expected ${expected.length} elements, got ${actual.length}: ${describe(actual)}`);
    }
    for (const [index, item] of expected.entries()) {
      const mismatch = this.value(item, actual[index], `${path}[${index}]`, false);
      if (mismatch) return mismatch;
    }
    return null;
  }

  private scalar(expected: unknown, actual: unknown, path: string): Mismatch | null {
    const problem = `expected ${describe(expected)} (${bsonTypeOf(expected)}), got ${describe(actual)} (${bsonTypeOf(actual)})`;
    const expectedNumber = numericValue(expected);
    if (expectedNumber !== undefined) {
      if (this.exactTypes && bsonTypeOf(expected) !== bsonTypeOf(actual)) return fail(path, problem);
      const actualNumber = numericValue(actual);
      return actualNumber !== undefined && compareNumbers(expectedNumber, actualNumber) === 0 ? null : fail(path, problem);
    }
    return sameScalar(expected, actual) ? null : fail(path, problem);
  }

  private operator(name: string, arg: unknown, actual: unknown, path: string, root: boolean): Mismatch | null {
    switch (name) {
      case "$$exists":
        if (typeof arg !== "boolean") throw new MatchSyntaxError(`${path}: $$exists needs a boolean`);
        return (actual !== undefined) === arg
          ? null
          : fail(path, arg ? "expected a value, it is unset" : `expected no value, got ${describe(actual)}`);
      case "$$unsetOrMatches":
        return actual === undefined ? null : this.value(arg, actual, path, root);
      case "$$type": {
        const types = Array.isArray(arg) ? arg : [arg];
        if (actual === undefined) return fail(path, `expected a value of type ${types.join("|")}, it is unset`);
        return types.some((type) => typeMatches(String(type), actual))
          ? null
          : fail(path, `expected type ${types.join("|")}, got ${bsonTypeOf(actual)} ${describe(actual)}`);
      }
      case "$$matchesEntity":
        return this.value(this.requireEntities(path).bsonEntity(String(arg)), actual, path, root);
      case "$$sessionLsid": {
        const lsid = this.requireEntities(path).sessionLsid(String(arg));
        return sameScalar(lsid, actual)
          ? null
          : fail(path, `expected lsid of session ${String(arg)} ${describe(lsid)}, got ${describe(actual)}`);
      }
      case "$$lte": {
        const limit = numericValue(arg);
        const value = numericValue(actual);
        if (limit === undefined) throw new MatchSyntaxError(`${path}: $$lte needs a number`);
        return value !== undefined && compareNumbers(value, limit) <= 0
          ? null
          : fail(path, `expected a number <= ${describe(arg)}, got ${describe(actual)}`);
      }
      case "$$matchAsDocument": {
        if (typeof actual !== "string") return fail(path, `expected an Extended JSON string, got ${describe(actual)}`);
        return this.value(arg, EJSON.parse(actual, { relaxed: false }), path, false);
      }
      case "$$matchesHexBytes": {
        if (typeof arg !== "string" || !/^([0-9a-f]{2})*$/i.test(arg))
          throw new MatchSyntaxError(`${path}: $$matchesHexBytes needs hex bytes`);
        const hex = actual instanceof Uint8Array ? Buffer.from(actual).toString("hex") : actual;
        return typeof hex === "string" && hex.toLowerCase() === arg.toLowerCase()
          ? null
          : fail(path, `expected bytes ${arg}, got ${describe(actual)}`);
      }
      case "$$matchAsRoot":
        if (!isDocument(arg)) throw new MatchSyntaxError(`${path}: $$matchAsRoot needs a document`);
        return this.value(arg, actual, path, true);
      default:
        throw new MatchSyntaxError(`${path}: special operator ${name} ${NOT_SUPPORTED}`);
    }
  }

  private requireEntities(path: string): MatchEntities {
    if (!this.entities) throw new MatchSyntaxError(`${path}: entity operator used without an entity map`);
    return this.entities;
  }
}

const NUMBER_TYPES = new Set(["int", "long", "double", "decimal"]);

function typeMatches(type: string, actual: unknown): boolean {
  const possible = possibleBsonTypes(actual);
  if (type === "number") return possible.some((t) => NUMBER_TYPES.has(t));
  return possible.includes(type);
}

/** Exact equality for non-numeric scalars and for values compared as a whole (lsid). */
export function sameScalar(expected: unknown, actual: unknown): boolean {
  if (expected === null || typeof expected !== "object") return expected === actual;
  if (bsonTypeOf(expected) !== bsonTypeOf(actual)) return false;
  if (expected instanceof Date && actual instanceof Date) return expected.getTime() === actual.getTime();
  if (isBsonWrapper(expected) || isDocument(expected) || expected instanceof Uint8Array || expected instanceof RegExp) {
    // Canonical Extended JSON compares type and value; key order is normalised for documents.
    return canonical(expected) === canonical(actual);
  }
  return false;
}

function canonical(value: unknown): string {
  return EJSON.stringify(sortKeys(value), { relaxed: false });
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isDocument(value)) return value;
  const entries = documentEntries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([key, item]) => [key, sortKeys(item)]));
}
