import type { PostView } from "../../src/protocol/post-view.ts";
import { applyFrame } from "../../src/protocol/view.ts";
import type { FeedFrame } from "./feed-client.ts";

/** The map rule (src/protocol/view.ts) applied to a connection's frames. */
export function applyFrames(frames: readonly FeedFrame[], view = new Map<string, PostView>()): Map<string, PostView> {
  for (const frame of frames) applyFrame(view, frame);
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
