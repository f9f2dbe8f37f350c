import * as v from "valibot";
import { POST_ID_PATTERN } from "./post-view.ts";
import { PositionSchema } from "./frames.ts";

/**
 * The characters a field may hold, as one pattern (JSON Schema takes one per field), on UTF-16
 * code units (no `u` flag): no control characters (C0, DEL, C1) but the `allowed` ones, and no
 * lone surrogates, which BSON's UTF-8 would store as U+FFFD, so the 201 body would differ from
 * the stored post.
 */
const plainText = (allowed: string) =>
  new RegExp(`^(?:[^\\u0000-\\u001F\\u007F-\\u009F\\uD800-\\uDFFF]|[${allowed}]|[\\uD800-\\uDBFF][\\uDC00-\\uDFFF])*$`);

const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;

const text = (field: string, max: number, allowed: { pattern: string; names: string }) =>
  v.pipe(
    v.string(`${field} must be a string`),
    v.trim(),
    v.minLength(1, `${field} must not be empty`),
    // Characters as JavaScript and HTML maxlength count them (UTF-16 code units).
    v.maxLength(max, `${field} must be at most ${max} characters`),
    v.regex(plainText(allowed.pattern), (issue) =>
      String(issue.input)
        .replace(new RegExp(`[${allowed.pattern}]`, "g"), "")
        .match(CONTROL)
        ? `${field} must not contain control characters (${allowed.names} are allowed)`
        : `${field} must be valid Unicode: it contains an unpaired surrogate (a lone \\uD800-\\uDFFF escape)`,
    ),
  );

/** Issue messages of a JSON body object: a missing key is required, an extra one unknown. */
const bodyKeyMessage = (issue: v.BaseIssue<unknown>) => {
  const key = String(issue.path?.at(-1)?.key);
  return issue.expected === "never" ? `unknown field ${JSON.stringify(key)}` : `${key} is required`;
};

const unknownQueryParameter = (issue: v.BaseIssue<unknown>) => `unknown query parameter ${JSON.stringify(issue.path?.at(-1)?.key)}`;

/** The body of POST /posts. Unknown keys are refused so typos are not silently dropped. */
export const NewPostSchema = v.pipe(
  v.strictObject(
    {
      // A NUL or an escape sequence has no place in a name.
      author: text("author", 64, { pattern: "\\t\\n", names: "tab and newline" }),
      // Pasted text often ends its lines with CRLF.
      content: text("content", 10_000, { pattern: "\\t\\n\\r", names: "tab, newline and carriage return" }),
    },
    bodyKeyMessage,
  ),
  v.title("post"),
);
export type NewPost = v.InferOutput<typeof NewPostSchema>;

/** The query of GET /posts: a page of the newest posts. */
export const ListQuerySchema = v.strictObject(
  {
    limit: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^\d+$/, "limit must be a whole number"),
        v.transform(Number),
        v.minValue(1, "limit must be at least 1"),
        v.maxValue(100, "limit must be at most 100"),
      ),
      "20",
    ),
    before: v.optional(v.pipe(v.string(), v.regex(POST_ID_PATTERN, "before must be a post id (24 hex characters)"))),
  },
  unknownQueryParameter,
);
export type ListQuery = v.InferOutput<typeof ListQuerySchema>;

/** The query of the WebSocket feed. Other parameters are ignored. */
export const FeedQuerySchema = v.looseObject({ since: v.optional(PositionSchema) });
export type FeedQuery = v.InferOutput<typeof FeedQuerySchema>;

/** The path of GET /posts/:id; an id that cannot be a post names nothing (404). */
export const PostPathSchema = v.object({
  id: v.pipe(
    v.string(),
    v.regex(POST_ID_PATTERN, (issue) => `No post with id ${JSON.stringify(issue.input)}`),
  ),
});
