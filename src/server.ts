import type { MongoClient } from "mongodb";
import { descriptorReserve, type Config } from "./config.ts";
import { ChangeFeed } from "./feed/change-feed.ts";
import { CheckpointStore, type FeedStateDocument } from "./feed/checkpoint-store.ts";
import { ConnectionCaps } from "./feed/connection-caps.ts";
import { FeedHistory } from "./feed/history.ts";
import { FeedSockets, type FeedSocketData } from "./feed/sockets.ts";
import { postsTopic } from "./feed/topics.ts";
import { clientAddressResolver } from "./http/client-address.ts";
import { serverErrorHandler } from "./http/problem.ts";
import { createRouter } from "./http/router.ts";
import { feedUpgradeRoute } from "./http/routes/feed-upgrade.ts";
import { healthRoutes } from "./http/routes/health.ts";
import { postsRoutes } from "./http/routes/posts.ts";
import type { Logger } from "./logger.ts";
import { PostsStore } from "./mongo/posts-store.ts";
import { MongoReachability } from "./mongo/reachability.ts";
import type { StoredPost } from "./mongo/stored-post.ts";
import type { Observations } from "./observations.ts";
import { Readiness } from "./readiness.ts";

export type FeedServerOptions = {
  config: Config;
  client: MongoClient;
  log: Logger;
  observations: Observations;
  /** Aborting it shuts the server down in order; `closed` resolves when that is done. */
  signal: AbortSignal;
};

export type RunningFeedServer = {
  url: URL;
  /** Resolves once a shutdown triggered by the signal has finished. */
  closed: Promise<void>;
};

/** How often send buffers and readiness are checked. */
const SWEEP_MS = 50;
/** An idle getMore returns every 250 ms: six missed in a row is a stalled stream, not a quiet one. */
const STALLED_AFTER_MS = 1_500;

/**
 * Wires one feed server: change stream first (listening starts only once it is
 * established, so every post accepted afterwards is broadcast), then HTTP + WebSocket.
 */
export async function startFeedServer({ config, client, log, observations, signal }: FeedServerOptions): Promise<RunningFeedServer> {
  const db = client.db(config.databaseName);
  const collection = db.collection<StoredPost>("posts");
  const topic = postsTopic(collection.collectionName);
  const history = new FeedHistory({ size: config.historySize, ttlMs: config.historyTtlSeconds * 1000 });
  const checkpoints = new CheckpointStore(db.collection<FeedStateDocument>("feed_state"), collection.collectionName, observations);
  const caps = new ConnectionCaps({ total: config.maxConnections, perAddress: config.maxConnectionsPerIp });
  const sockets = new FeedSockets({
    history,
    topic,
    sendBufferLimit: config.sendBufferLimit,
    sendBufferTotal: config.sendBufferTotal,
    idleTimeoutSeconds: config.idleTimeoutSeconds,
    caps,
    observations,
  });
  const feed = new ChangeFeed({ collection, history, checkpoints, publisher: sockets, topic, observations });

  const stopFeed = new AbortController();
  const feedStopped = feed.run(stopFeed.signal);
  try {
    await feed.established;
  } catch (error) {
    stopFeed.abort();
    await feedStopped;
    throw error;
  }

  const reachability = new MongoReachability(client, () => readiness.check());
  const readiness = new Readiness({ feed, reachability, observations, stalledAfterMs: STALLED_AFTER_MS });
  const router = createRouter(
    [
      feedUpgradeRoute({ feed, caps, observations }),
      ...postsRoutes({ posts: new PostsStore(client, collection), feed, requestTimeoutMs: config.requestTimeoutMs }),
      ...healthRoutes({ readiness, history, connections: () => sockets.count }),
    ],
    {
      log,
      observations,
      clientAddressOf: clientAddressResolver(config.trustProxy, () => observations.emit({ type: "forwarded-for-ignored" })),
    },
  );

  const server = Bun.serve<FeedSocketData>({
    port: config.port,
    hostname: config.host,
    // Never Bun's development error pages (stack traces, source lines), whatever NODE_ENV says.
    development: false,
    fetch: router,
    // Only reached by a bug (the router maps every error): a logged 500 without details.
    error: serverErrorHandler(log),
    websocket: sockets.handler(),
  });
  sockets.attach(server);
  const sweeper = setInterval(() => {
    sockets.enforceSendLimits();
    readiness.check();
  }, SWEEP_MS);
  const url = server.url;
  const { openFiles, memoryBytes, memorySource } = config.hostLimits;
  observations.emit({
    type: "limits",
    openFileLimit: openFiles,
    reservedDescriptors: openFiles === undefined ? undefined : descriptorReserve(openFiles),
    wsMaxConnections: config.maxConnections,
    wsMaxConnectionsPerIp: config.maxConnectionsPerIp,
    memoryBytes,
    memorySource,
    sendBufferTotal: config.sendBufferTotal,
    sendBufferLimit: config.sendBufferLimit,
    requestTimeoutMs: config.requestTimeoutMs,
  });
  observations.emit({ type: "listening", http: url.href, websocket: `ws://${url.host}/`, database: config.databaseName });

  const { promise: closed, resolve } = Promise.withResolvers<void>();
  const shutdown = async () => {
    observations.emit({ type: "shutting-down" });
    clearInterval(sweeper);
    reachability.close();
    const requestsDone = server.stop(); // stop accepting; resolves when in-flight requests finish
    sockets.closeAll();
    await requestsDone;
    stopFeed.abort();
    await feedStopped; // the feed persists the position it reached before it resolves
    observations.emit({ type: "stopped" });
    resolve();
  };
  if (signal.aborted) void shutdown();
  else signal.addEventListener("abort", () => void shutdown(), { once: true });

  return { url, closed };
}
