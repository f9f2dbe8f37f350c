import type { ChangeStreamDocument, ResumeToken } from "mongodb";
import * as v from "valibot";
import { timestampToBigInt } from "../mongo/cluster-time.ts";
import { StoredPostSchema, toPostView, type StoredPost } from "../mongo/stored-post.ts";
import type { Position } from "../protocol/frames.ts";
import type { PostView } from "../protocol/post-view.ts";

/** What a filter routes an event on: the post it is about and who wrote it (`authorId` only on posts written with auth on). */
export type RoutingKeys = { id: string; author: string; authorId?: string };

/** One change of the posts collection, as the feed sees it. */
export type FeedEvent =
  | { kind: "insert"; position: Position; time: bigint; post: PostView; keys: RoutingKeys }
  /** The collection was dropped or renamed: the stream ends here. */
  | { kind: "invalidate"; position: Position; time: bigint }
  /** A change the feed does not deliver (a document without the post shape); `problems` say why. */
  | { kind: "skip"; position: Position; time: bigint; documentKey: string; problems: string[] };

export type PostsChange = ChangeStreamDocument<StoredPost>;

/** The change stream's pipeline: only what `toFeedEvent` turns into events. */
export const feedPipeline = [{ $match: { operationType: { $in: ["insert", "invalidate"] } } }];

/** Turns a change document into a feed event; pure, so it is tested without MongoDB. */
export function toFeedEvent(change: PostsChange): FeedEvent {
  const position = tokenData(change._id);
  const time = "clusterTime" in change && change.clusterTime ? timestampToBigInt(change.clusterTime) : 0n;
  switch (change.operationType) {
    case "invalidate":
      return { kind: "invalidate", position, time };
    case "insert": {
      const parsed = v.safeParse(StoredPostSchema, change.fullDocument);
      if (!parsed.success) {
        const problems = parsed.issues.map((issue) => `${v.getDotPath(issue) ?? "document"}: ${issue.message}`);
        return { kind: "skip", position, time, documentKey: String(change.documentKey._id), problems };
      }
      const post = toPostView(parsed.output);
      const keys: RoutingKeys = { id: post.id, author: post.author, ...(post.authorId === undefined ? {} : { authorId: post.authorId }) };
      return { kind: "insert", position, time, post, keys };
    }
    default:
      return { kind: "skip", position, time, documentKey: "", problems: [`operation ${change.operationType} is not part of the feed`] };
  }
}

/** The `_data` of a resume token: a position. */
export function tokenData(token: ResumeToken): Position {
  return (token as { _data: string })._data;
}
