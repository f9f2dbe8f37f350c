import { ObjectId, type ChangeStreamDocument, type ResumeToken } from "mongodb";
import * as v from "valibot";
import { timestampToBigInt } from "../mongo/cluster-time.ts";
import { StoredPostSchema, toPostView, type StoredPost } from "../mongo/stored-post.ts";
import type { ChangeType } from "../protocol/filter.ts";
import type { Position } from "../protocol/frames.ts";
import type { PostView } from "../protocol/post-view.ts";

/** What a filter routes an event on: the post it is about and who wrote it (`authorId` only on posts written with auth on). */
export type RoutingKeys = { id: string; author: string; authorId?: string };

/** A document that has the post shape, as the feed shows it. */
export type PostImage = { post: PostView; keys: RoutingKeys };

/**
 * What the feed knows of the document on one side of a change: a post, `absent` (no
 * document, or one without the post shape: in no view), or `unknown` (MongoDB gave no image).
 */
export type Side<T> = T | "absent" | "unknown";

/** One change of a post, with the document before and after it as far as they are known. */
export type PostChange = {
  kind: "change";
  operation: ChangeType;
  position: Position;
  time: bigint;
  /** The post id (hex of the document's `_id`). */
  id: string;
  before: Side<RoutingKeys>;
  /** Never `unknown`: an update without its post-image is an `images-missing` event instead. */
  after: PostImage | "absent";
};

/** One change of the posts collection, as the feed sees it. */
export type FeedEvent =
  | PostChange
  /** The collection was dropped or renamed: the stream ends here. */
  | { kind: "invalidate"; position: Position; time: bigint }
  /** An update whose post-image MongoDB no longer has: what the post became is unknowable. */
  | { kind: "images-missing"; position: Position; time: bigint; id: string }
  /** A change that is in no view (no side has the post shape); `problems` say why. */
  | { kind: "skip"; position: Position; time: bigint; documentKey: string; problems: string[] };

export type PostsChange = ChangeStreamDocument<StoredPost>;

/**
 * How update events carry the post: `as-of-change` reads MongoDB's post-images (and
 * pre-images); `lookup` (degraded, when images cannot be enabled) reads the post as it is
 * when the event is read, which may be a later state.
 */
export type ImageSource = "as-of-change" | "lookup";

/** The change stream's pipeline and options: only what `toFeedEvent` turns into events. */
export function feedWatch(source: ImageSource) {
  return {
    pipeline: [{ $match: { operationType: { $in: ["insert", "update", "replace", "delete", "invalidate"] } } }],
    options:
      source === "as-of-change"
        ? ({ fullDocument: "whenAvailable", fullDocumentBeforeChange: "whenAvailable" } as const)
        : ({ fullDocument: "updateLookup" } as const),
  };
}

/** Turns a change document into a feed event; pure, so it is tested without MongoDB. */
export function toFeedEvent(change: PostsChange, source: ImageSource): FeedEvent {
  const position = tokenData(change._id);
  const time = "clusterTime" in change && change.clusterTime ? timestampToBigInt(change.clusterTime) : 0n;
  if (change.operationType === "invalidate") return { kind: "invalidate", position, time };
  if (!("documentKey" in change)) return skip(position, time, "", [`operation ${change.operationType} is not part of the feed`]);
  const key: unknown = change.documentKey._id;
  // Every post has an ObjectId: a document with any other _id is in no view, whatever it holds.
  if (!(key instanceof ObjectId)) return skip(position, time, String(key), ["_id: the _id of a post is an ObjectId"]);
  const id = key.toHexString();
  const base = { kind: "change", position, time, id } as const;
  const preImage = "fullDocumentBeforeChange" in change ? change.fullDocumentBeforeChange : undefined;

  switch (change.operationType) {
    case "insert": {
      const after = imageOf(change.fullDocument);
      if (after === "absent") return skip(position, time, id, problemsOf(change.fullDocument));
      return { ...base, operation: "insert", before: "absent", after };
    }
    case "update":
    case "replace": {
      const document = change.fullDocument;
      // A replace carries its document; an update's post-image is null when MongoDB has none.
      if (document == null && change.operationType === "update" && source === "as-of-change") {
        return { kind: "images-missing", position, time, id };
      }
      const after = imageOf(document); // null after a lookup: deleted since, and its delete follows
      const before = sideOf(preImage);
      if (before === "absent" && after === "absent") return skip(position, time, id, problemsOf(document));
      return { ...base, operation: "update", before, after };
    }
    case "delete": {
      const before = sideOf(preImage);
      if (before === "absent") return skip(position, time, id, ["the deleted document was not a post"]);
      return { ...base, operation: "delete", before, after: "absent" };
    }
    default:
      return skip(position, time, id, [`operation ${(change as { operationType: string }).operationType} is not part of the feed`]);
  }
}

function imageOf(document: unknown): PostImage | "absent" {
  const parsed = v.safeParse(StoredPostSchema, document);
  if (!parsed.success) return "absent";
  const post = toPostView(parsed.output);
  const keys: RoutingKeys = { id: post.id, author: post.author, ...(post.authorId === undefined ? {} : { authorId: post.authorId }) };
  return { post, keys };
}

/** A pre-image's side: unknown when MongoDB gave none (images off, or expired). */
function sideOf(preImage: unknown): Side<RoutingKeys> {
  if (preImage == null) return "unknown";
  const image = imageOf(preImage);
  return image === "absent" ? "absent" : image.keys;
}

function problemsOf(document: unknown): string[] {
  const parsed = v.safeParse(StoredPostSchema, document);
  return parsed.success ? [] : parsed.issues.map((issue) => `${v.getDotPath(issue) ?? "document"}: ${issue.message}`);
}

function skip(position: Position, time: bigint, documentKey: string, problems: string[]): FeedEvent {
  return { kind: "skip", position, time, documentKey, problems };
}

/** When a change was committed, in ms: its wallTime (MongoDB 6.0+), else its cluster time's seconds. */
export function committedAt(change: PostsChange): number | undefined {
  const wallTime = (change as { wallTime?: unknown }).wallTime;
  if (wallTime instanceof Date) return wallTime.getTime();
  return "clusterTime" in change && change.clusterTime ? change.clusterTime.t * 1000 : undefined;
}

/** The `_data` of a resume token: a position. */
export function tokenData(token: ResumeToken): Position {
  return (token as { _data: string })._data;
}
