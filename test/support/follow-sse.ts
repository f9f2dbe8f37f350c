import type { Hop } from "./follow-feed.ts";
import { postIds } from "./post-writer.ts";
import { SseClient } from "./sse-client.ts";

/**
 * Follows the feed over SSE as EventSource does on a flaky network: after `hop.after` posts on
 * the current stream it disconnects, then reconnects to `hop.url` sending `Last-Event-ID` (the
 * last event id seen). Resolves with every post id received across all streams, in order, and
 * the ids the writer committed, once the last stream has caught up with them.
 */
export async function followSseWithReconnects(
  first: SseClient,
  hops: readonly Hop[],
  committed: Promise<string[]>,
): Promise<{ received: string[]; committed: string[] }> {
  const received: string[] = [];
  let client = first;
  for (const hop of hops) {
    await client.untilInserts(hop.after, 20_000);
    await client[Symbol.asyncDispose]();
    received.push(...postIds(client.inserts));
    client = await SseClient.open(hop.url, { "Last-Event-ID": client.lastEventId! });
  }
  const ids = await committed;
  await client.until(() => received.length + client.inserts.length >= ids.length, 20_000, "the rest of the posts");
  received.push(...postIds(client.inserts));
  await client[Symbol.asyncDispose]();
  return { received, committed: ids };
}
