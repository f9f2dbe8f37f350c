import type { FeedFilter } from "../protocol/filter.ts";

/**
 * The pub/sub topic of one canonical filter; built here and nowhere else. Every connection
 * joins exactly one: connections with the same filter share it, and no socket can receive
 * an event twice.
 */
export function filterTopic(collectionName: string, filter: FeedFilter): string {
  const parts = Object.keys(filter).length === 0 ? "" : `?${JSON.stringify(filter)}`;
  return `feed:${collectionName}${parts}`;
}
