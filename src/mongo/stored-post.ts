import { type Filter, ObjectId } from "mongodb";
import * as v from "valibot";
import type { PostView } from "../protocol/post-view.ts";

/** A document of the posts collection as this server writes it; others may write anything. */
export const StoredPostSchema = v.object({
  _id: v.instance(ObjectId),
  author: v.string(),
  /** The author's token `sub`, written only while auth is on. */
  authorId: v.optional(v.string()),
  content: v.string(),
  createdAt: v.date(),
  updatedAt: v.optional(v.date()),
});
export type StoredPost = v.InferOutput<typeof StoredPostSchema>;

/** The same shape as a query, so writes only ever touch documents that are posts. */
export const postShapeQuery: Filter<StoredPost> = {
  author: { $type: "string" },
  content: { $type: "string" },
  createdAt: { $type: "date" },
  $or: [{ updatedAt: { $exists: false } }, { updatedAt: { $type: "date" } }],
};

export function toPostView(post: StoredPost): PostView {
  const view: PostView = {
    id: post._id.toHexString(),
    author: post.author,
    ...(post.authorId === undefined ? {} : { authorId: post.authorId }),
    content: post.content,
    createdAt: post.createdAt.toISOString(),
  };
  if (post.updatedAt) view.updatedAt = post.updatedAt.toISOString();
  return view;
}

/** The view of a document that has the post shape, or undefined for anything else. */
export function postViewOf(document: unknown): PostView | undefined {
  const parsed = v.safeParse(StoredPostSchema, document);
  return parsed.success ? toPostView(parsed.output) : undefined;
}
