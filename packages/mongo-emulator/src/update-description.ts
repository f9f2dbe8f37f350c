/** Builds a change event's `updateDescription` the way the server's v2 oplog delta reports it. */
import { Int32, type Document } from "bson";
import type { UpdateDescription } from "./oplog.ts";
import { getPath, hasPath, isPlainObject, valuesEqual } from "./values.ts";

/** Operators whose changes are reported element-wise on arrays (appends as `field.<index>`). */
const ARRAY_OPERATORS = new Set(["$push", "$addToSet", "$pop", "$pull", "$pullAll"]);

export function emptyDescription(): UpdateDescription {
  return { updatedFields: {}, removedFields: [], truncatedArrays: [] };
}

/** Description for operator updates, given which paths each operator modified. */
export function describeOperatorUpdate(
  before: Document,
  after: Document,
  modified: { op: string; path: string; exact: boolean }[],
): UpdateDescription {
  const desc = emptyDescription();
  const seen = new Set<string>();
  for (const { op, path, exact } of modified) {
    if (seen.has(path)) continue;
    seen.add(path);
    if (!hasPath(after, path)) {
      if (hasPath(before, path)) desc.removedFields.push(path);
      continue;
    }
    const oldValue = getPath(before, path);
    const newValue = getPath(after, path);
    if (ARRAY_OPERATORS.has(op) && Array.isArray(oldValue) && Array.isArray(newValue)) {
      diffArrays(oldValue, newValue, path, desc, false);
    } else if (!exact && hasPath(before, path)) {
      // Positional ($, $[], $[id]) updates: report the changed elements, like the server's delta.
      diffValues(oldValue, newValue, path, desc);
    } else if (!valuesEqual(oldValue, newValue) || !hasPath(before, path)) {
      desc.updatedFields[path] = newValue;
    }
  }
  return withDisambiguatedPaths(desc, before, after);
}

/** Description for pipeline updates and other whole-document changes: a structural diff. */
export function describeDiff(before: Document, after: Document): UpdateDescription {
  const desc = emptyDescription();
  diffObjects(before, after, "", desc);
  return withDisambiguatedPaths(desc, before, after);
}

function diffObjects(before: Document, after: Document, prefix: string, desc: UpdateDescription): void {
  for (const key of Object.keys(before)) {
    if (!(key in after)) desc.removedFields.push(prefix + key);
  }
  for (const key of Object.keys(after)) {
    const path = prefix + key;
    const newValue = after[key];
    if (!(key in before)) {
      desc.updatedFields[path] = newValue;
      continue;
    }
    diffValues(before[key], newValue, path, desc);
  }
}

function diffValues(oldValue: unknown, newValue: unknown, path: string, desc: UpdateDescription): void {
  if (isPlainObject(oldValue) && isPlainObject(newValue)) diffObjects(oldValue, newValue, `${path}.`, desc);
  else if (Array.isArray(oldValue) && Array.isArray(newValue)) diffArrays(oldValue, newValue, path, desc, true);
  else if (!valuesEqual(oldValue, newValue)) desc.updatedFields[path] = newValue;
}

function diffArrays(before: unknown[], after: unknown[], path: string, desc: UpdateDescription, deep: boolean): void {
  const common = Math.min(before.length, after.length);
  for (let i = 0; i < common; i++) {
    if (deep) diffValues(before[i], after[i], `${path}.${i}`, desc);
    else if (!valuesEqual(before[i], after[i])) desc.updatedFields[`${path}.${i}`] = after[i];
  }
  for (let i = common; i < after.length; i++) desc.updatedFields[`${path}.${i}`] = after[i];
  if (after.length < before.length) desc.truncatedArrays.push({ field: path, newSize: after.length });
}

/** Adds `disambiguatedPaths` for paths with numeric components (array index → int, field → string). */
function withDisambiguatedPaths(desc: UpdateDescription, before: Document, after: Document): UpdateDescription {
  const paths = [
    ...Object.keys(desc.updatedFields).map((p) => [p, after] as const),
    ...desc.removedFields.map((p) => [p, before] as const),
    ...desc.truncatedArrays.map((t) => [t.field, after] as const),
  ];
  for (const [path, doc] of paths) {
    const parts = path.split(".");
    if (!parts.some((part) => /^\d+$/.test(part))) continue;
    const components: unknown[] = [];
    let current: unknown = doc;
    for (const part of parts) {
      if (Array.isArray(current)) {
        components.push(new Int32(Number(part)));
        current = current[Number(part)];
      } else {
        components.push(part);
        current = isPlainObject(current) ? current[part] : undefined;
      }
    }
    desc.disambiguatedPaths ??= {};
    desc.disambiguatedPaths[path] = components;
  }
  return desc;
}
