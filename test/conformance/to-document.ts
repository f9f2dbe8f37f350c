import { isBsonWrapper } from "./bson-values";

/** Driver model objects (e.g. BulkWriteResult) become plain documents of their enumerable fields. */
export function toDocument(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toDocument);
  if (typeof value !== "object" || value === null || isBsonWrapper(value)) return value;
  if (value instanceof Date || value instanceof RegExp || value instanceof Uint8Array || value instanceof Map) return value;
  if (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null) return value;
  return Object.fromEntries(Object.entries(value));
}
