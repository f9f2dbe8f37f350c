import type { PostView } from "../../src/protocol/post-view.ts";
import type { FeedFrame } from "./feed-client.ts";

/**
 * The map rule a client keeps: insert, update and enter put the post; delete and leave
 * remove it. Applied to a connection's frames, it must end equal to `GET /posts` with the
 * same filter.
 */
export function applyFrames(frames: readonly FeedFrame[], view = new Map<string, PostView>()): Map<string, PostView> {
  for (const frame of frames) {
    if (frame.type === "insert" || frame.type === "update" || frame.type === "enter") view.set(frame.post.id, frame.post);
    else if (frame.type === "delete" || frame.type === "leave") view.delete(frame.id);
  }
  return view;
}

/** Every post `GET /posts?<query>` lists, following `next` through all pages, as a map by id. */
export async function listAll(http: string, query = ""): Promise<{ view: Map<string, PostView>; position: string }> {
  const view = new Map<string, PostView>();
  let next: string | null = `/posts?limit=100${query ? `&${query}` : ""}`;
  let position = "";
  while (next) {
    const response = await fetch(`${http}${next}`);
    if (response.status !== 200) throw new Error(`GET ${next} answered ${response.status}: ${await response.text()}`);
    const page = (await response.json()) as { posts: PostView[]; position: string; next: string | null };
    position ||= page.position;
    for (const post of page.posts) view.set(post.id, post);
    next = page.next;
  }
  return { view, position };
}
