import * as v from "valibot";

/** A post id: the hex form of its MongoDB ObjectId (the server writes lowercase, and reads either case). */
export const POST_ID_PATTERN = /^[0-9a-fA-F]{24}$/;

/** The public shape of a post: the 201 body, list items and the `post` of feed frames. */
export const PostViewSchema = v.pipe(
  v.object({
    id: v.pipe(v.string(), v.regex(POST_ID_PATTERN)),
    author: v.string(),
    /** The author's `sub` at the token issuer; only on posts written while auth was on. */
    authorId: v.optional(v.string()),
    content: v.string(),
    createdAt: v.pipe(v.string(), v.isoTimestamp()),
    /** Only on a post that was edited. */
    updatedAt: v.optional(v.pipe(v.string(), v.isoTimestamp())),
  }),
  v.title("Post"),
);
export type PostView = v.InferOutput<typeof PostViewSchema>;
