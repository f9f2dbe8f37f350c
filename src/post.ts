import { ObjectId } from "mongodb";
import * as v from "valibot";

const text = (field: string, max: number) =>
  v.pipe(
    v.string(`${field} must be a string`),
    v.trim(),
    v.minLength(1, `${field} must not be empty`),
    // Characters as JavaScript and HTML maxlength count them (UTF-16 code units).
    v.maxLength(max, `${field} must be at most ${max} characters`),
  );

const isJsonObject = (input: unknown) => typeof input === "object" && input !== null && !Array.isArray(input);

/** The body of POST /posts. Unknown keys are refused so typos are not silently dropped. */
export const NewPostSchema = v.pipe(
  v.custom<Record<string, unknown>>(isJsonObject, "body must be a JSON object with author and content"),
  v.strictObject({ author: text("author", 64), content: text("content", 10_000) }, (issue) => {
    const key = JSON.stringify(issue.path?.at(-1)?.key);
    return issue.expected === "never" ? `unknown field ${key}` : `${JSON.parse(key)} is required`;
  }),
);
export type NewPost = v.InferOutput<typeof NewPostSchema>;

/** A document of the posts collection as this server writes it; others may write anything. */
export const StoredPostSchema = v.object({
  _id: v.instance(ObjectId),
  author: v.string(),
  content: v.string(),
  createdAt: v.date(),
});
export type StoredPost = v.InferOutput<typeof StoredPostSchema>;

/** The public shape of a post: the 201 body, list items and the `post` of feed frames. */
export type PostView = { id: string; author: string; content: string; createdAt: string };

export function toPostView(post: StoredPost): PostView {
  return { id: post._id.toHexString(), author: post.author, content: post.content, createdAt: post.createdAt.toISOString() };
}
