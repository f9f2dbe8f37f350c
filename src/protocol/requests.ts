import * as v from "valibot";
import { filterParameterSchemas } from "./filter.ts";
import { PositionSchema } from "./frames.ts";
import { POST_ID_PATTERN } from "./post-view.ts";

const text = (field: string, max: number) =>
  v.pipe(
    v.string(`${field} must be a string`),
    v.trim(),
    v.minLength(1, `${field} must not be empty`),
    // Characters as JavaScript and HTML maxlength count them (UTF-16 code units).
    v.maxLength(max, `${field} must be at most ${max} characters`),
  );

/** Issue messages of a JSON body object: a missing key is required, an extra one unknown. */
const bodyKeyMessage = (issue: v.BaseIssue<unknown>) => {
  const key = String(issue.path?.at(-1)?.key);
  return issue.expected === "never" ? `unknown field ${JSON.stringify(key)}` : `${key} is required`;
};

const unknownQueryParameter = (issue: v.BaseIssue<unknown>) => `unknown query parameter ${JSON.stringify(issue.path?.at(-1)?.key)}`;

/**
 * Controls that reorder text when displayed (a `\u202eadmin` reads as "nimda"), so a name can
 * pose as another, and the brackets of markup.
 */
const POSING_CHARACTERS = /^[^\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069<>]*$/;

/**
 * A display name, from a body or a token: trimmed, 1–64 characters, and nothing that can
 * pose as another name or as markup.
 */
export const AuthorSchema = v.pipe(
  text("author", 64),
  // One regex rather than checks: it converts to a JSON Schema pattern.
  v.regex(POSING_CHARACTERS, "author must not contain bidirectional control characters, < or >"),
);

/** The body of POST /posts with auth off. Unknown keys are refused so typos are not silently dropped. */
export const NewPostSchema = v.pipe(
  v.strictObject({ author: AuthorSchema, content: text("content", 10_000) }, bodyKeyMessage),
  v.title("post"),
);
export type NewPost = v.InferOutput<typeof NewPostSchema>;

/** The body of PATCH /posts/:id: the new content, trimmed and bounded like a new post's. */
export const PostEditSchema = v.pipe(v.strictObject({ content: text("content", 10_000) }, bodyKeyMessage), v.title("edit"));
export type PostEdit = v.InferOutput<typeof PostEditSchema>;

/** The body of POST /posts with auth on: the author comes from the token, so a body `author` is refused. */
export const TokenPostSchema = v.pipe(
  v.strictObject({ content: text("content", 10_000) }, (issue) =>
    issue.path?.at(-1)?.key === "author" ? "the author comes from your token" : bodyKeyMessage(issue),
  ),
  v.title("post"),
);
export type TokenPost = v.InferOutput<typeof TokenPostSchema>;

/** A query parameter that may appear once (URLSearchParams gives repeats as a list). */
const once = (name: string) => v.string(`${name} may be given only once`);

/** The query of GET /posts: a page of the newest posts, optionally filtered like the feed. */
export const ListQuerySchema = v.strictObject(
  {
    limit: v.optional(
      v.pipe(
        once("limit"),
        v.description("how many posts, 1 to 100"),
        v.regex(/^\d+$/, "limit must be a whole number"),
        v.transform(Number),
        v.minValue(1, "limit must be at least 1"),
        v.maxValue(100, "limit must be at most 100"),
      ),
      "20",
    ),
    before: v.optional(v.pipe(once("before"), v.regex(POST_ID_PATTERN, "before must be a post id (24 hex characters)"), v.toLowerCase())),
    ...filterParameterSchemas,
  },
  unknownQueryParameter,
);
export type ListQuery = v.InferOutput<typeof ListQuerySchema>;

/** The query of the WebSocket feed: where to continue from, and the filter. Unknown parameters are refused (4400). */
export const FeedQuerySchema = v.strictObject(
  {
    since: v.optional(v.pipe(once("since"), PositionSchema)),
    ...filterParameterSchemas,
    /** A bearer token, for clients that can set neither a subprotocol nor a header (checked by the router, never logged). */
    access_token: v.optional(v.union([v.string(), v.array(v.string())])),
  },
  unknownQueryParameter,
);
export type FeedQuery = v.InferOutput<typeof FeedQuerySchema>;

/** The path of GET /posts/:id; an id that cannot be a post names nothing (404). */
export const PostPathSchema = v.object({
  id: v.pipe(
    v.string(),
    v.regex(POST_ID_PATTERN, (issue) => `No post with id ${JSON.stringify(issue.input)}`),
  ),
});
