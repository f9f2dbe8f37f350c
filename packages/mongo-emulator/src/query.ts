/** Filters, sorts and projections over stored documents, using mingo with an `_id` fast path. */
import { Query, Aggregator } from "mingo";
import type { Document } from "bson";
import { cloneValue, keyOf, isPlainObject } from "./values.ts";
import type { Collection } from "./store.ts";

const MINGO_OPTIONS = { idKey: "_id", processingMode: 0 };

/** A compiled filter. */
export type Predicate = (doc: Document) => boolean;

/** Compiles a query filter (empty filter matches everything). */
export function compileFilter(filter: Document | undefined): Predicate {
  if (!filter || Object.keys(filter).length === 0) return () => true;
  const query = new Query(filter, MINGO_OPTIONS);
  return (doc) => query.test(doc);
}

/** The `_id` key when the filter is a plain `{_id: <value>}` equality (the common single-doc case). */
function exactIdKey(filter: Document | undefined): string | undefined {
  if (!filter) return undefined;
  const keys = Object.keys(filter);
  if (keys.length !== 1 || keys[0] !== "_id") return undefined;
  const id = filter._id;
  if (isPlainObject(id) && Object.keys(id).some((k) => k.startsWith("$"))) return undefined;
  if (Array.isArray(id) || id instanceof RegExp || (id as { _bsontype?: string })?._bsontype === "BSONRegExp") {
    return undefined;
  }
  return keyOf(id);
}

/** Documents of the collection matching the filter, in natural order (stored objects, do not mutate). */
export function matchingDocuments(coll: Collection | undefined, filter: Document | undefined, limit = Infinity): Document[] {
  if (!coll) return [];
  const idKey = exactIdKey(filter);
  if (idKey !== undefined) {
    const doc = coll.docs.get(idKey);
    return doc ? [doc] : [];
  }
  const predicate = compileFilter(filter);
  const out: Document[] = [];
  for (const doc of coll.docs.values()) {
    if (predicate(doc)) {
      out.push(doc);
      if (out.length >= limit) break;
    }
  }
  return out;
}

export interface FindShape {
  sort?: Document;
  skip?: number;
  limit?: number;
  projection?: Document;
}

/** Applies sort, skip, limit and projection; returns new objects when projecting. */
export function shapeResults(docs: Document[], shape: FindShape): Document[] {
  let result = docs;
  if (shape.sort && Object.keys(shape.sort).length > 0) {
    result = new Aggregator([{ $sort: shape.sort }], MINGO_OPTIONS).run(result) as Document[];
  }
  const skip = shape.skip ?? 0;
  const limit = shape.limit && shape.limit > 0 ? shape.limit : Infinity;
  if (skip > 0 || limit !== Infinity) result = result.slice(skip, skip + limit);
  if (shape.projection && Object.keys(shape.projection).length > 0) {
    const source = result;
    const projected = new Query({}, MINGO_OPTIONS).find(source, shape.projection).all() as Document[];
    result = projected.map((doc, i) => inDocumentOrder(doc, source[i]));
  }
  return result;
}

/** The server keeps a projected document's fields in the stored document's order. */
function inDocumentOrder(projected: Document, original: Document | undefined): Document {
  if (!original) return projected;
  const out: Document = {};
  for (const key of Object.keys(original)) if (key in projected) out[key] = projected[key];
  for (const key of Object.keys(projected)) if (!(key in out)) out[key] = projected[key];
  return out;
}

/** Runs aggregation stages with mingo on copies of the input. */
export function runStages(docs: Document[], stages: Document[], collectionResolver?: (name: string) => Document[]): Document[] {
  if (stages.length === 0) return docs;
  const aggregator = new Aggregator(stages, { ...MINGO_OPTIONS, collectionResolver });
  return aggregator.run(docs.map(cloneValue)) as Document[];
}
