import * as v from "valibot";
import { filterParameterSchemas } from "./filter.ts";
import { PositionSchema } from "./frames.ts";
import { POST_ID_PATTERN } from "./post-view.ts";

/**
 * The characters a field may hold, as one pattern (JSON Schema takes one per field), on UTF-16
 * code units (no `u` flag): no control characters (C0, DEL, C1) but the `allowed` ones, none of
 * the `forbidden` ones, and no lone surrogates, which BSON's UTF-8 would store as U+FFFD, so the
 * 201 body would differ from the stored post.
 */
const plainText = (allowed: string, forbidden: string) =>
  new RegExp(`^(?:[^\\u0000-\\u001F\\u007F-\\u009F\\uD800-\\uDFFF${forbidden}]|[${allowed}]|[\\uD800-\\uDBFF][\\uDC00-\\uDFFF])*$`);

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters (C0, DEL, C1) is this pattern's whole job
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;

type Characters = { allowed: string; allowedNames: string; forbidden?: string; forbiddenNames?: string };

const text = (field: string, max: number, { allowed, allowedNames, forbidden = "", forbiddenNames }: Characters) =>
  v.pipe(
    v.string(`${field} must be a string`),
    v.trim(),
    v.minLength(1, `${field} must not be empty`),
    // Characters as JavaScript and HTML maxlength count them (UTF-16 code units).
    v.maxLength(max, `${field} must be at most ${max} characters`),
    // One regex for every rule: it converts to one JSON Schema pattern. The message says which rule broke.
    v.regex(plainText(allowed, forbidden), (issue) => {
      const input = String(issue.input);
      if (forbidden && new RegExp(`[${forbidden}]`).test(input)) return `${field} must not contain ${forbiddenNames}`;
      return input.replace(new RegExp(`[${allowed}]`, "g"), "").match(CONTROL)
        ? `${field} must not contain control characters (${allowedNames} are allowed)`
        : `${field} must be valid Unicode: it contains an unpaired surrogate (a lone \\uD800-\\uDFFF escape)`;
    }),
  );

/** Post content: pasted text often ends its lines with CRLF. */
const contentText = () => text("content", 10_000, { allowed: "\\t\\n\\r", allowedNames: "tab, newline and carriage return" });

/** Issue messages of a JSON body object: a missing key is required, an extra one unknown. */
const bodyKeyMessage = (issue: v.BaseIssue<unknown>) => {
  const key = String(issue.path?.at(-1)?.key);
  return issue.expected === "never" ? `unknown field ${JSON.stringify(key)}` : `${key} is required`;
};

const unknownQueryParameter = (issue: v.BaseIssue<unknown>) => `unknown query parameter ${JSON.stringify(issue.path?.at(-1)?.key)}`;

/**
 * A display name, from a body or a token: trimmed, 1–64 characters, no control characters but
 * tab and newline (a NUL or an escape sequence has no place in a name), and nothing that can
 * pose as another name (the controls that reorder text when displayed: a `\u202eadmin` reads
 * as "nimda") or as markup (`<`, `>`). It must show something (a visible character, not only
 * combining marks) and hold nothing invisible (Unicode's default-ignorable code points).
 */
export const AuthorSchema = v.pipe(
  text("author", 64, {
    allowed: "\\t\\n",
    allowedNames: "tab and newline",
    forbidden: "\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069<>",
    forbiddenNames: "bidirectional control characters, < or >",
  }),
  // Invisible characters make look-alikes ("ad\u200dmin" reads as "admin") and empty-looking names ("\u3164").
  v.regex(
    /^(?:[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]|[^\p{Default_Ignorable_Code_Point}])*$/u, // bidi controls: refused above
    "author must not contain invisible characters (zero-width spaces and joiners, Hangul fillers, variation selectors and other default-ignorable code points)",
  ),
  // An empty name, a lone surrogate (\p{Cs}) and invisible characters are refused above with their own message.
  v.regex(
    /^$|[^\p{White_Space}\p{M}\p{C}\p{Z}]|\p{Cs}|\p{Default_Ignorable_Code_Point}/u,
    "author must contain a visible character (not only spaces or combining marks)",
  ),
);

/** The body of POST /posts with auth off. Unknown keys are refused so typos are not silently dropped. */
export const NewPostSchema = v.pipe(v.strictObject({ author: AuthorSchema, content: contentText() }, bodyKeyMessage), v.title("post"));
export type NewPost = v.InferOutput<typeof NewPostSchema>;

/** The body of PATCH /posts/:id: the new content, trimmed and bounded like a new post's. */
export const PostEditSchema = v.pipe(v.strictObject({ content: contentText() }, bodyKeyMessage), v.title("edit"));
export type PostEdit = v.InferOutput<typeof PostEditSchema>;

/** The body of POST /posts with auth on: the author comes from the token, so a body `author` is refused. */
export const TokenPostSchema = v.pipe(
  v.strictObject({ content: contentText() }, (issue) =>
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
