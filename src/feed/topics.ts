import { createHash } from "node:crypto";
import type { FeedFilter } from "../protocol/filter.ts";

/**
 * The pub/sub topic of one canonical filter; built here and nowhere else. Every connection
 * joins exactly one: connections with the same filter share it, and no socket can receive
 * an event twice. A filter is named by a digest of its canonical form (128 bits of SHA-256),
 * not spelled out: a filter may be 15 KB, and Bun keeps its own copy of every topic name.
 */
export function filterTopic(collectionName: string, filter: FeedFilter): string {
  if (Object.keys(filter).length === 0) return `feed:${collectionName}`;
  const digest = createHash("sha256").update(JSON.stringify(filter)).digest("base64url").slice(0, 22);
  return `feed:${collectionName}#${digest}`;
}
