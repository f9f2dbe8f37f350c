import type { Feed, FeedItem } from "../../src/client/index.ts";

/** Records everything a client surfaces, and awaits conditions on its view (never a sleep). */
export function watch(feed: Feed) {
  const items: FeedItem[] = [];
  const states: string[] = [];
  const checks = new Set<() => void>();
  const check = () => checks.forEach((run) => run());
  feed.on("frame", (item) => (items.push(item), check()));
  feed.on("reset", (posts, position) => (items.push({ type: "reset", posts, position }), check()));
  feed.on("state", (state) => (states.push(state), check()));
  const until = (condition: () => boolean, what: string, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => (clearTimeout(timer), checks.delete(run), error ? reject(error) : resolve());
      const run = () => condition() && done();
      const timer = setTimeout(
        () => done(new Error(`timed out waiting for ${what}; state ${feed.state}, ${items.length} items`)),
        timeoutMs,
      );
      checks.add(run);
      run();
    });
  const has = (id: string) => feed.posts.has(id);
  const positions = () => items.flatMap((item) => ("position" in item && item.type !== "reset" ? [item.position] : []));
  return { items, states, until, has, positions };
}
