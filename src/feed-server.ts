import type { MongoClient } from "mongodb";
import { ChangeFeed } from "./change-feed.ts";
import { CheckpointStore, type FeedStateDocument } from "./checkpoint-store.ts";
import type { Config } from "./config.ts";
import { FeedHistory } from "./feed-history.ts";
import { clusterTimeOf, wallClockMsOf } from "./feed-position.ts";
import { CLOSE_GOING_AWAY, FeedSockets, type FeedSocketData } from "./feed-sockets.ts";
import type { Logger } from "./logger.ts";
import type { StoredPost } from "./post.ts";
import { postsRoutes } from "./posts-routes.ts";
import { HttpProblem } from "./problem.ts";
import { createRouter, type Handler } from "./router.ts";
import { postsTopic } from "./topics.ts";

export type FeedServerOptions = {
  config: Config;
  client: MongoClient;
  log: Logger;
  /** Aborting it shuts the server down in order; `closed` resolves when that is done. */
  signal: AbortSignal;
};

export type RunningFeedServer = {
  url: URL;
  feed: ChangeFeed;
  /** Resolves once a shutdown triggered by the signal has finished. */
  closed: Promise<void>;
};

const SLOW_CLIENT_SWEEP_MS = 50;
/** How far ahead of this machine's clock MongoDB's cluster time may plausibly run. */
const FUTURE_TOLERANCE_MS = 60_000;

/**
 * Wires one feed server: change stream first (listening starts only once it is
 * established, so every post accepted afterwards is broadcast), then HTTP + WebSocket.
 */
export async function startFeedServer({ config, client, log, signal }: FeedServerOptions): Promise<RunningFeedServer> {
  const db = client.db(config.databaseName);
  const posts = db.collection<StoredPost>("posts");
  const topic = postsTopic(posts.collectionName);
  const history = new FeedHistory({ size: config.historySize, ttlMs: config.historyTtlSeconds * 1000 });
  const checkpoints = new CheckpointStore(db.collection<FeedStateDocument>("feed_state"), posts.collectionName, log);
  let publish = (_frame: string) => {};
  const feed = new ChangeFeed({ collection: posts, history, checkpoints, broadcast: (frame) => publish(frame), log });

  const stopFeed = new AbortController();
  const feedStopped = feed.run(stopFeed.signal);
  try {
    await feed.established;
  } catch (error) {
    stopFeed.abort();
    await feedStopped;
    throw error;
  }

  const sockets = new FeedSockets({ history, topic, sendBufferLimit: config.sendBufferLimit, idleTimeoutSeconds: config.idleTimeoutSeconds, log });
  const waitMs = config.connectTimeoutMs;

  const notAWebSocket = () =>
    new HttpProblem(426, "This is the WebSocket feed; connect with a WebSocket client (ws://host/)", { headers: { Upgrade: "websocket" } });

  const openFeed: Handler = async ({ request, server, url }) => {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") throw notAWebSocket();
    const since = url.searchParams.get("since") ?? undefined;
    const time = since === undefined ? undefined : clusterTimeOf(since);
    // A position another instance handed out may be a moment ahead of this one's stream;
    // one from the future of the clock is unknown, and is told so at once (not after a wait).
    if (time !== undefined && time > feed.streamTime && wallClockMsOf(time) < Date.now() + FUTURE_TOLERANCE_MS) {
      await feed.waitForTime(time, waitMs);
    }
    const data: FeedSocketData = { since };
    if ((server as Bun.Server<FeedSocketData>).upgrade(request, { data })) return undefined;
    throw notAWebSocket();
  };

  const ready: Handler = () => {
    if (!feed.isUp) {
      const reason = feed.lastError instanceof Error ? feed.lastError.message : "not established";
      throw new HttpProblem(503, `The change stream is down: ${reason}`, { headers: { "Retry-After": "1" } });
    }
    return Response.json({ status: "ready", position: history.newestPosition ?? null, connections: sockets.count });
  };

  const { createPost, listPosts, getPost } = postsRoutes({ client, posts, feed, waitMs });
  const router = createRouter(
    [
      { path: /^\/$/, methods: { GET: openFeed } },
      { path: /^\/posts$/, methods: { GET: listPosts, POST: createPost } },
      { path: /^\/posts\/([^/]+)$/, methods: { GET: getPost } },
      { path: /^\/health\/live$/, methods: { GET: () => Response.json({ status: "live" }) } },
      { path: /^\/health\/ready$/, methods: { GET: ready } },
    ],
    log,
  );

  const server = Bun.serve<FeedSocketData>({
    port: config.port,
    hostname: config.host,
    fetch: router,
    websocket: sockets.handler(),
  });
  publish = (frame) => void server.publish(topic, frame);
  const sweeper = setInterval(() => sockets.closeSlowClients(), SLOW_CLIENT_SWEEP_MS);
  const url = server.url;
  log.info("listening", { http: url.href, websocket: `ws://${url.host}/`, database: config.databaseName });

  const { promise: closed, resolve } = Promise.withResolvers<void>();
  const shutdown = async () => {
    log.info("shutting down");
    clearInterval(sweeper);
    const requestsDone = server.stop(); // stop accepting; resolves when in-flight requests finish
    sockets.closeAll(CLOSE_GOING_AWAY, "server shutting down");
    await requestsDone;
    stopFeed.abort();
    await feedStopped;
    // The position reached, so a restarted server (or another instance) serves every `since` a client saw.
    feed.checkpoint(feed.head);
    await checkpoints.flush();
    log.info("stopped");
    resolve();
  };
  if (signal.aborted) void shutdown();
  else signal.addEventListener("abort", () => void shutdown(), { once: true });

  return { url, feed, closed };
}
