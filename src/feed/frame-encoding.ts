import type { Position, ResyncReason } from "../protocol/frames.ts";
import type { PostChange } from "./feed-event.ts";
import type { FrameKind } from "./frame-kind.ts";

// Key order is part of the wire format: type first, then the rest as documented.

/** A change's frames, each kind encoded at most once and the same string sent to every client. */
export type FrameCache = Partial<Record<FrameKind, string>>;

export function frameOf(change: PostChange, kind: FrameKind, cache: FrameCache): string {
  let frame = cache[kind];
  if (frame === undefined) cache[kind] = frame = encodeChangeFrame(change, kind);
  return frame;
}

function encodeChangeFrame(change: PostChange, kind: FrameKind): string {
  if (kind === "delete" || kind === "leave") return JSON.stringify({ type: kind, position: change.position, id: change.id });
  if (change.after === "absent") throw new Error(`a ${kind} frame needs the post after the change`);
  return JSON.stringify({ type: kind, position: change.position, post: change.after.post });
}

export function resyncFrame(reason: ResyncReason): string {
  return JSON.stringify({ type: "resync", reason });
}

export type { Position };
export function authFrame(expiresAt: number): string {
  return JSON.stringify({ type: "auth", expiresAt: new Date(expiresAt).toISOString() });
}
