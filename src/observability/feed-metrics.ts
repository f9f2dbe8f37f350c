import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Observation, Observations } from "./observations.ts";

/** Methods a label may name; anything else is `other`, so a client cannot mint label values. */
const METHODS = new Set(["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS", "PUT"]);
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The server's Prometheus metrics, all named `mongo_feed_*`, fed by observations (the same
 * typed events the log gets). No label carries a connection, a user or a raw path.
 */
export class FeedMetrics {
  readonly registry = new Registry();
  readonly #connections = this.#gauge("connections", "Open WebSocket connections");
  readonly #eventStreams = this.#gauge("event_streams", "Open Server-Sent Events feed streams (GET /feed)");
  readonly #framesSent = this.#counter("frames_sent_total", "Frames sent to sockets, live and replayed, by frame type", ["type"]);
  readonly #bytesSent = this.#counter("bytes_sent_total", "Bytes of frames sent to sockets");
  readonly #changeEvents = this.#counter("change_events_total", "Change events read from the change stream, by operation type", [
    "operation",
  ]);
  readonly #lag = this.#histogram(
    "commit_to_publish_seconds",
    "From a change's commit (its wallTime) to its publication",
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  );
  readonly #broadcast = this.#histogram(
    "broadcast_duration_seconds",
    "Time to publish one event's frames to every filter it concerns",
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
  );
  readonly #restarts = this.#counter("stream_restarts_total", "Change stream restarts beyond the driver's own resume, by error", [
    "reason",
  ]);
  readonly #resyncs = this.#counter("resyncs_total", "resync frames sent, by reason (broadcasts count once per socket)", ["reason"]);
  readonly #closes = this.#counter("server_closes_total", "WebSocket closes the server started, by close code", ["code"]);
  readonly #keyFetchFailures = this.#counter(
    "key_fetch_failures_total",
    "JWKS fetches that failed (each one, though the log throttles them)",
  );
  readonly #replays = this.#counter("replays_total", "Connections with since, by outcome", ["outcome"]);
  readonly #groupCommits = this.#histogram(
    "group_commit_size",
    "POSTs inserted together by one insertMany",
    [1, 2, 4, 8, 16, 32, 64, 128, 256],
  );
  readonly #primary = this.#gauge("mongodb_primary", "1 while MongoDB has a primary (writes can go through), 0 during an election");
  readonly #elections = this.#counter("mongodb_elections_total", "New primaries seen after the first (elections, step-downs, failovers)");
  readonly #withoutPrimary = this.#counter(
    "mongodb_without_primary_seconds_total",
    "Time MongoDB had no primary, added when a new one is seen",
  );
  readonly #requests = this.#counter("http_requests_total", "HTTP requests by route template, method and status", [
    "route",
    "method",
    "status",
  ]);
  readonly #requestSeconds = this.#histogram("http_request_duration_seconds", "HTTP request latency by route template", LATENCY_BUCKETS, [
    "route",
  ]);

  constructor(observations: Observations, historySize: () => number) {
    collectDefaultMetrics({ register: this.registry, prefix: "mongo_feed_" });
    this.#primary.set(1); // the server starts only once it has reached a primary
    this.#gauge("history_events", "Events kept for since replays", () => historySize());
    observations.subscribe((observation) => this.#record(observation));
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Every type is named here (the `never` below fails the typecheck otherwise), with why when it counts nothing. */
  #record(observation: Observation): void {
    switch (observation.type) {
      case "socket-opened":
      case "socket-closed":
        return void this.#connections.set(observation.connections);
      case "event-stream-opened":
      case "event-stream-closed":
        return void this.#eventStreams.set(observation.streams);
      case "broadcast":
      case "replay":
        for (const type in observation.frames) this.#child(this.#framesSent, type, { type }).inc(observation.frames[type] ?? 0);
        this.#bytesSent.inc(observation.bytes);
        if (observation.type === "replay") {
          this.#replays.inc({ outcome: observation.outcome });
          if (observation.frames.resync) this.#resyncs.inc({ reason: observation.outcome }, observation.frames.resync);
        } else {
          this.#broadcast.observe(observation.durationMs / 1000);
          if (observation.resync) this.#resyncs.inc({ reason: observation.resync }, observation.frames.resync ?? 0);
        }
        return;
      case "change-event":
        this.#child(this.#changeEvents, observation.operation, { operation: observation.operation }).inc();
        if (observation.lagMs !== undefined) this.#lag.observe(Math.max(0, observation.lagMs) / 1000);
        return;
      case "stream-down":
        return void this.#restarts.inc({ reason: reasonOf(observation.error) });
      case "group-commit":
        return void this.#groupCommits.observe(observation.size);
      case "jwks-unavailable":
        return void this.#keyFetchFailures.inc();
      case "socket-closed-by-server":
        return void this.#closes.inc({ code: String(observation.code) });
      case "primary-lost":
        return void this.#primary.set(0);
      case "primary-elected":
        this.#primary.set(1);
        this.#elections.inc();
        return void this.#withoutPrimary.inc(observation.withoutPrimaryMs / 1000);
      case "response": {
        const method = METHODS.has(observation.method) ? observation.method : "other";
        const status = String(observation.status);
        this.#child(this.#requests, `${observation.route} ${method} ${status}`, { route: observation.route, method, status }).inc();
        return void this.#child(this.#requestSeconds, observation.route, { route: observation.route }).observe(
          observation.durationMs / 1000,
        );
      }
      // Counted by what they lead to: the HTTP answer (http_requests_total, by status), the close
      // (server_closes_total, by code) or the resync frames (resyncs_total, by reason).
      case "request": // its answer
      case "request-aborted": // its 400 answer
      case "access-refused": // its 401, 403 or 503 answer, or the refused socket's close
      case "write-rate-limited": // its 429 answer
      case "connection-refused": // its 429 or 503 answer, before any upgrade
      case "socket-refused": // its close
      case "slow-client-closed": // its close (1013) or drop (1006)
      case "send-budget-exceeded": // the closes and drops it decides
      case "stream-resync": // the resync frames sent to every socket
      case "post-image-missing": // the resync frames sent to every socket
        return;
      // Once per process, or a state that another place reports (GET /health/ready, the log): nothing to rate.
      case "listening":
      case "limits":
      case "signal-received":
      case "shutting-down":
      case "stopped":
      case "auth-off":
      case "forwarded-for-ignored": // logged once, whatever the number of requests
      case "images-unavailable":
      case "stream-resuming":
      case "stream-up":
      case "readiness-changed":
      case "hosts-accepted":
      case "jwks-available": // after key_fetch_failures_total stopped growing
        return;
      // One per socket and token: a debug line, no series.
      case "token-refreshed":
        return;
      // Rare faults, each worth its own warning line (a bug's, for the last two); no counter yet.
      case "document-skipped":
      case "checkpoint-failed":
      case "unhandled-rejection":
      case "uncaught-exception":
        return;
      default:
        observation satisfies never;
    }
  }

  /**
   * A metric's series for one set of labels, looked up once: prom-client checks the labels on
   * every call otherwise, which showed in the per-event profile. Every label value is bounded.
   */
  readonly #children = new Map<object, Map<string, unknown>>();
  #child<M extends Counter | Histogram>(metric: M, key: string, labels: Record<string, string>): ReturnType<M["labels"]> {
    let children = this.#children.get(metric);
    if (!children) {
      children = new Map();
      this.#children.set(metric, children);
    }
    let child = children.get(key);
    if (!child) {
      child = metric.labels(labels);
      children.set(key, child);
    }
    return child as ReturnType<M["labels"]>;
  }

  #counter(name: string, help: string, labelNames: string[] = []) {
    return new Counter({ name: `mongo_feed_${name}`, help, labelNames, registers: [this.registry] });
  }

  #gauge(name: string, help: string, read?: () => number) {
    return new Gauge({
      name: `mongo_feed_${name}`,
      help,
      registers: [this.registry],
      ...(read
        ? {
            collect(this: Gauge) {
              this.set(read());
            },
          }
        : {}),
    });
  }

  #histogram(name: string, help: string, buckets: number[], labelNames: string[] = []) {
    return new Histogram({ name: `mongo_feed_${name}`, help, buckets, labelNames, registers: [this.registry] });
  }
}

/** A bounded label for why the stream went down: the error's class (and server code). */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return "unknown";
  const code = (error as { code?: unknown }).code;
  return typeof code === "number" ? `${error.name}:${code}` : error.name;
}
