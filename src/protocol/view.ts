import type { FeedFrame } from "./frames.ts";
import type { PostView } from "./post-view.ts";

/**
 * The map rule: insert, update and enter put the post; delete and leave remove it. Kept by a
 * connection without `types`, the map equals `GET /posts` with the same filter. Returns
 * whether the frame changed the view (resync and other frames do not).
 */
export function applyFrame(view: Map<string, PostView>, frame: FeedFrame): boolean {
  switch (frame.type) {
    case "insert":
    case "update":
    case "enter":
      view.set(frame.post.id, frame.post);
      return true;
    case "delete":
    case "leave":
      return view.delete(frame.id);
    default:
      return false;
  }
}

/** Posts newest first, as `GET /posts` lists them (by id: ObjectIds grow with creation time). */
export function newestFirst(view: ReadonlyMap<string, PostView>): PostView[] {
  return [...view.values()].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}
