import type { Position } from "./feed-position.ts";
import type { PostView } from "./post.ts";

/** Why a client must reload instead of getting a replay. */
export type ResyncReason =
  | "position-expired" // `since` is older than the history this server keeps
  | "position-unknown" // `since` is not a position of this feed
  | "history-lost" // MongoDB could not resume the change stream; events may be missing
  | "collection-invalidated"; // the posts collection was dropped or renamed

/** Frames are encoded once per event and the same string goes to every client. */
export function insertFrame(position: Position, post: PostView): string {
  return JSON.stringify({ type: "insert", position, post });
}

export function resyncFrame(reason: ResyncReason): string {
  return JSON.stringify({ type: "resync", reason });
}
