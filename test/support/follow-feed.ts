import { FeedClient } from "./feed-client.ts";
import { postIds } from "./post-writer.ts";

export type Hop = { after: number; url: string };

/**
 * Follows the feed like a client on a flaky network: after `hop.after` posts on the current
 * connection it disconnects, then reconnects to `hop.url` with `since=<last position seen>`.
 * Resolves with every post id received across all connections, in order, and the ids the
 * writer committed, once the last connection has caught up with them.
 */
export async function followWithReconnects(
  firstUrl: string,
  hops: readonly Hop[],
  committed: Promise<string[]>,
): Promise<{ received: string[]; committed: string[] }> {
  const received: string[] = [];
  let client = await FeedClient.connect(firstUrl);
  for (const hop of hops) {
    await client.untilInserts(hop.after, 20_000);
    client.close();
    await client.closed;
    received.push(...postIds(client.frames));
    client = await FeedClient.connect(`${hop.url}?since=${client.lastPosition}`);
  }
  const ids = await committed;
  await client.until(() => received.length + client.inserts.length >= ids.length, 20_000, "the rest of the posts");
  received.push(...postIds(client.frames));
  client.close();
  return { received, committed: ids };
}
