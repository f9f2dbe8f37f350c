import type { Position, ResyncReason } from "../protocol/frames.ts";
import type { PostView } from "../protocol/post-view.ts";

// Frames are encoded once per event and the same string goes to every client.
// Key order is part of the wire format: type first, then the rest as documented.

export function insertFrame(position: Position, post: PostView): string {
  return JSON.stringify({ type: "insert", position, post });
}

export function resyncFrame(reason: ResyncReason): string {
  return JSON.stringify({ type: "resync", reason });
}

export function authFrame(expiresAt: number): string {
  return JSON.stringify({ type: "auth", expiresAt: new Date(expiresAt).toISOString() });
}
