import type { MongoClient } from "mongodb";
import { AccessGate } from "./auth/access-gate.ts";
import { createTokenVerifier } from "./auth/token-verifier.ts";
import packageJson from "../package.json" with { type: "json" };
import { descriptorReserve, type Config } from "./config/config.ts";
import { ChangeFeed } from "./feed/change-feed.ts";
import { CheckpointStore, type FeedStateDocument } from "./feed/checkpoint-store.ts";
import { ConnectionCaps } from "./feed/connection-caps.ts";
import { Fanout } from "./feed/fanout.ts";
import { FeedStreams } from "./feed/feed-streams.ts";
import { FilterIndex } from "./feed/filter-index.ts";
import { FeedHistory } from "./feed/history.ts";
import { Publishers } from "./feed/publishers.ts";
import { SocketAuth } from "./feed/socket-auth.ts";
import type { FeedSocketData } from "./feed/socket-data.ts";
import { FeedSockets } from "./feed/sockets.ts";
import { clientAddressResolver } from "./http/client-address.ts";
import { HostPolicy } from "./http/host-policy.ts";
import { OriginPolicy } from "./http/origin-policy.ts";
import { serverErrorHandler } from "./http/problem.ts";
import { createRouter } from "./http/router.ts";
import { feedRoute } from "./http/routes/feed-sse.ts";
import { feedUpgradeRoute } from "./http/routes/feed-upgrade.ts";
import { healthRoutes } from "./http/routes/health.ts";
import { metricsRoute } from "./http/routes/metrics.ts";
import { openApiRoute } from "./http/routes/openapi.ts";
import type { Route } from "./http/route.ts";
import { postsRoutes } from "./http/routes/posts.ts";
import { WriteRateLimiter } from "./http/write-rate-limiter.ts";
import type { Logger } from "./observability/logger.ts";
import { FeedMetrics } from "./observability/feed-metrics.ts";
import { preparePostsCollection } from "./mongo/posts-collection.ts";
import { IdempotencyStore, type IdempotencyRecord } from "./mongo/idempotency-store.ts";
import { PostsStore } from "./mongo/posts-store.ts";
import { MongoReachability } from "./mongo/reachability.ts";
import type { StoredPost } from "./mongo/stored-post.ts";
import type { Observations } from "./observability/observations.ts";
import { Readiness } from "./health/readiness.ts";

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
  const history = new FeedHistory({ size: config.historySize, ttlMs: config.historyTtlSeconds * 1000 });
  const metrics = new FeedMetrics(observations, () => history.size);
  const checkpoints = new CheckpointStore(db.collection<FeedStateDocument>("feed_state"), collection.collectionName, observations);
  const filters = new FilterIndex(collection.collectionName);
  const gate = new AccessGate(config.auth, createTokenVerifier(config.auth, observations, signal));
  if (!gate.authOn) observations.emit({ type: "auth-off" });
  const groupCommit = config.groupCommit ? { onBatch: (size: number) => observations.emit({ type: "group-commit", size }) } : undefined;
  const posts = new PostsStore(client, collection, groupCommit);
  const idempotency = new IdempotencyStore(db.collection<IdempotencyRecord>("idempotency_keys"), posts);
  const caps = new ConnectionCaps({ total: config.maxConnections, perAddress: config.maxConnectionsPerIp });
  const sockets = new FeedSockets({
    history,
    filters,
    sendBufferLimit: config.sendBufferLimit,
    sendBufferTotal: config.sendBufferTotal,
    idleTimeoutSeconds: config.idleTimeoutSeconds,
    caps,
    observations,
    auth: new SocketAuth(gate, observations),
  });
  const streams = new FeedStreams({
    history,
    filters,
    sendBufferLimit: config.sendBufferLimit,
    heartbeatSeconds: config.sseHeartbeatSeconds,
    caps,
    observations,
  });
  sockets.shareBudgetWith(streams);
  const fanout = new Fanout({ history, filters, publisher: new Publishers(sockets, streams), observations });
  const prepare = () => preparePostsCollection(db, collection.collectionName);
  const feed = new ChangeFeed({
    collection,
    history,
    checkpoints,
    fanout,
    prepare,
    observations,
    readPreference: config.feedReadPreference,
  });

  const stopFeed = new AbortController();
  const feedStopped = feed.run(stopFeed.signal);
  try {
    await feed.established;
    await idempotency.ensureIndexes(); // before listening: no request may find the TTL rule missing
  } catch (error) {
    stopFeed.abort();
    await feedStopped;
    throw error;
  }

  // A stream reading from the primary follows a newly elected one (its cursor stays on the old member).
  const reachability = new MongoReachability(
    client,
    observations,
    () => readiness.check(),
    () => feed.primaryElected(),
  );
  const readiness = new Readiness({ feed, reachability, observations, stalledAfterMs: STALLED_AFTER_MS });
  const hosts = new HostPolicy(config.allowedHosts, gate.authOn);
  const routes: Route[] = [
    feedUpgradeRoute({ feed, caps, observations }),
    feedRoute({ feed, caps, observations, streams }),
    ...postsRoutes({ posts, idempotency, feed, requestTimeoutMs: config.requestTimeoutMs, authOn: gate.authOn }),
    ...healthRoutes({ readiness, history, connections: () => sockets.count + streams.count }),
    metricsRoute(metrics, config.metricsToken),
  ];
  const api = { title: "mongo-feed", version: packageJson.version, authOn: gate.authOn, publicRead: config.auth.publicRead };
  routes.push(openApiRoute(() => routes, api));
  const router = createRouter(routes, {
    log,
    observations,
    clientAddressOf: clientAddressResolver(config.trustProxy, () => observations.emit({ type: "forwarded-for-ignored" })),
    gate,
    origins: new OriginPolicy(config.allowedOrigins),
    hosts,
    ...(config.writeRateLimit ? { writeLimiter: new WriteRateLimiter(config.writeRateLimit) } : {}),
  });

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
  observations.emit({ type: "hosts-accepted", hosts: hosts.describe() });
  observations.emit({ type: "listening", http: url.href, websocket: `ws://${url.host}/`, database: config.databaseName });

  const { promise: closed, resolve } = Promise.withResolvers<void>();
  const shutdown = async () => {
    observations.emit({ type: "shutting-down" });
    clearInterval(sweeper);
    reachability.close();
    const requestsDone = server.stop(); // stop accepting; resolves when in-flight requests finish
    sockets.closeAll();
    streams.closeAll(); // an event stream is a request in flight until it ends
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
