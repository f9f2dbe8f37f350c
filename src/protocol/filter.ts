import * as v from "valibot";
import { POST_ID_PATTERN } from "./post-view.ts";

/** The operations a connection can ask for with `types`; an update also decides enter and leave. */
export const ChangeTypeSchema = v.picklist(["insert", "update", "delete"]);
export type ChangeType = v.InferOutput<typeof ChangeTypeSchema>;
export const CHANGE_TYPES: readonly ChangeType[] = ChangeTypeSchema.options;

/** The most values `author`, `authorId` or `id` may repeat. */
export const MAX_FILTER_VALUES = 100;

/**
 * Which part of the feed a connection (or a list) wants. Different parameters combine with
 * AND, the values of one with OR; no parameter means everything. In canonical form values
 * are sorted and unique, and `types` is absent when it names every type.
 */
export type FeedFilter = { author?: string[]; authorId?: string[]; id?: string[]; types?: ChangeType[] };

const oneOrMore = v.union([v.string(), v.array(v.string())]);
const asList = (value: string | string[]) => (Array.isArray(value) ? value : [value]);
const sortedUnique = <T extends string>(values: T[]) => [...new Set(values)].sort();

/**
 * A repeatable query parameter (`author=a&author=b`), as a sorted list without duplicates. The
 * checks come before the transforms, so the JSON Schema of the input states them.
 */
const repeatable = <S extends v.GenericSchema<string, string>>(item: S, plural: string, normalize = (value: string) => value) =>
  v.pipe(
    v.union([item, v.pipe(v.array(item), v.maxLength(MAX_FILTER_VALUES, `at most ${MAX_FILTER_VALUES} ${plural}`))]),
    // Transforms only after every check: a failed check before one would hide its own message.
    v.transform((value) => sortedUnique(asList(value).map(normalize))),
  );

const authorValue = v.pipe(
  v.string(),
  v.trim(),
  v.minLength(1, "author must not be empty"),
  // Longer than any author a post may have: it could match nothing.
  v.maxLength(64, "author must be at most 64 characters"),
);

/** A token `sub` as stored on posts written with auth on (display names are not unique; this is). */
const authorIdValue = v.pipe(
  v.string(),
  v.minLength(1, "authorId must not be empty"),
  v.maxLength(256, "authorId must be at most 256 characters"),
);

const idValue = v.pipe(
  v.string(),
  v.regex(POST_ID_PATTERN, (issue) => `id must be a post id (24 hex characters), got ${JSON.stringify(issue.input)}`),
);

const typeValue = v.picklist(CHANGE_TYPES, (issue) => `unknown type ${JSON.stringify(issue.input)} (types are ${CHANGE_TYPES.join(", ")})`);

/** The filter parameters: the same on `GET /posts` (where `types` has no effect) and on the feed. */
export const filterParameterSchemas = {
  author: v.optional(repeatable(authorValue, "authors")),
  authorId: v.optional(repeatable(authorIdValue, "authorIds")),
  id: v.optional(repeatable(idValue, "ids", (id) => id.toLowerCase())),
  types: v.optional(
    v.pipe(
      oneOrMore,
      v.description("a comma-separated list (or repeated) of insert, update, delete"),
      v.transform((value) => asList(value).flatMap((list) => list.split(",").map((type) => type.trim()))),
      v.array(typeValue),
      v.transform(sortedUnique),
    ),
  ),
};

/** The canonical filter of parsed parameters: two connections wanting the same share it. */
export function canonicalFilter(parameters: FeedFilter): FeedFilter {
  const filter: FeedFilter = {};
  if (parameters.author) filter.author = parameters.author;
  if (parameters.authorId) filter.authorId = parameters.authorId;
  if (parameters.id) filter.id = parameters.id;
  if (parameters.types && parameters.types.length < CHANGE_TYPES.length) filter.types = parameters.types;
  return filter;
}

/** A filter as query parameters (`author` and `id` repeated, `types` a comma list): the same for `GET /posts` and the feed. */
export function filterQuery(filter: FeedFilter, into = new URLSearchParams()): URLSearchParams {
  for (const author of filter.author ?? []) into.append("author", author);
  for (const authorId of filter.authorId ?? []) into.append("authorId", authorId);
  for (const id of filter.id ?? []) into.append("id", id);
  if (filter.types) into.append("types", filter.types.join(","));
  return into;
}
