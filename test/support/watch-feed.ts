import type { Feed, FeedItem } from "../../src/client/index.ts";
import { Changes, waitUntil } from "./wait-until.ts";

/** Records everything a client surfaces, and awaits conditions on its view (never a sleep). */
export function watch(feed: Feed) {
  const items: FeedItem[] = [];
  const states: string[] = [];
  const changes = new Changes();
  feed.on("frame", (item) => {
    items.push(item);
    changes.changed();
  });
  feed.on("reset", (posts, position) => {
    items.push({ type: "reset", posts, position });
    changes.changed();
  });
  feed.on("state", (state) => {
    states.push(state);
    changes.changed();
  });
  const until = async (condition: () => boolean, what: string, timeoutMs = 30_000) => {
    await waitUntil(changes, what, condition, { timeoutMs, seen: () => `state ${feed.state}, ${items.length} items` });
  };
  const has = (id: string) => feed.posts.has(id);
  const positions = () => items.flatMap((item) => ("position" in item && item.type !== "reset" ? [item.position] : []));
  return { items, states, until, has, positions };
}
