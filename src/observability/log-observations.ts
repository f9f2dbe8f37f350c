import type { Logger, LogLevel } from "./logger.ts";
import { LogThrottle } from "./log-throttle.ts";
import type { Observation, ObservationType, Observations } from "./observations.ts";

/** Events a client can cause at will: one line per kind per interval, then a count. */
const THROTTLED = new Set<ObservationType>([
  "write-rate-limited",
  "connection-refused",
  "slow-client-closed",
  "send-budget-exceeded",
  "jwks-unavailable",
  "socket-refused",
  "document-skipped",
  "forwarded-for-ignored",
  "unhandled-rejection",
  "uncaught-exception",
]);
/** How often a throttled kind may write a line of its own. */
export const LOG_INTERVAL_MS = 10_000;

type Line = [LogLevel, string] | undefined;

/**
 * How each observation reads in the log; the fields are the observation's own, plus `event`.
 * Every type is named here (the `never` below fails the typecheck otherwise), even those that have no line.
 */
function lineFor(observation: Observation): Line {
  switch (observation.type) {
    case "listening":
      return ["info", "listening"];
    case "limits":
      return ["info", "limits: WebSocket connections (from the open-file limit) and queued bytes (from memory)"];
    case "hosts-accepted":
      return ["info", "answering requests for these Host names (ALLOWED_HOSTS); others get 421"];
    case "signal-received":
      return ["info", "signal received; shutting down (send it again to exit at once)"];
    case "unhandled-rejection":
      return ["error", "a bug: a promise rejected and nothing handled it; the server goes on"];
    case "uncaught-exception":
      return ["error", "a bug: an exception reached the top of the event loop; the server goes on"];
    case "request":
      return ["debug", "request"];
    case "request-aborted":
      return ["debug", "the client closed the connection before its request was complete"];
    case "forwarded-for-ignored":
      return ["warn", "a request carries X-Forwarded-For but TRUST_PROXY is off: per-address limits apply to the proxy as a whole"];
    case "auth-off":
      return [
        "warn",
        "authentication is off: anyone can post as anyone (fine for bun run dev, not for production; set AUTH_JWT_SECRET or AUTH_JWKS_URL)",
      ];
    case "access-refused":
      return ["debug", "access refused"];
    case "jwks-unavailable":
      return ["warn", "could not fetch the JWKS; tokens cannot be checked until it answers (retrying with backoff)"];
    case "jwks-available":
      return ["info", "the JWKS answers again"];
    case "token-refreshed":
      return ["debug", "socket token refreshed"];
    case "write-rate-limited":
      return ["info", "a write was rate limited"];
    case "shutting-down":
      return ["info", "shutting down"];
    case "stopped":
      return ["info", "stopped"];
    case "stream-resuming":
      return ["info", "resuming the change stream from the persisted position"];
    case "stream-up":
      return ["info", "change stream established"];
    case "stream-down":
      return ["warn", "change stream interrupted; restarting"];
    case "stream-resync":
      return observation.reason === "history-lost"
        ? ["error", "the change stream cannot resume from its position; restarting from now, clients must resync"]
        : ["warn", "the posts collection was dropped or renamed; clients must resync"];
    case "document-skipped":
      return ["warn", "skipped a posts document that does not have the post shape"];
    case "images-unavailable":
      return [
        "warn",
        "MongoDB refused to enable changeStreamPreAndPostImages on the posts collection; running degraded: update frames carry the post as looked up when the event is read (it may be a later state), and deletes and leaves go to every filter that may have held the post",
      ];
    case "post-image-missing":
      return ["error", "MongoDB has no post-image for an update (images enabled after it, or expired); clients must resync"];
    case "checkpoint-failed":
      return ["warn", "could not persist the feed position"];
    case "socket-opened":
      return ["debug", "socket opened"];
    case "socket-refused":
      return ["debug", "socket refused"];
    case "socket-closed":
      return ["debug", "socket closed"];
    case "event-stream-opened":
      return ["debug", "event stream opened"];
    case "event-stream-closed":
      return ["debug", "event stream closed"];
    case "socket-closed-by-server":
    case "group-commit":
    case "change-event":
    case "broadcast":
    case "replay":
    case "response":
      return undefined; // for metrics; one per event or request would drown the log
    case "slow-client-closed":
      return ["warn", "closed a slow client"];
    case "send-budget-exceeded":
      return ["warn", "WebSocket send buffers passed WS_SEND_BUFFER_TOTAL; closed the clients holding the most"];
    case "connection-refused":
      return ["debug", "refused a WebSocket connection: a connection cap is reached"];
    case "primary-lost":
      return ["warn", "MongoDB has no primary (an election, or the primary is gone): writes wait for one up to their deadline"];
    case "primary-elected":
      return ["info", "MongoDB has a new primary"];
    case "readiness-changed":
      if (!observation.ready) return ["warn", "not ready"];
      return observation.primary
        ? ["info", "ready again"]
        : ["warn", "ready without a primary: the feed streams, writes wait for an election"];
    default:
      observation satisfies never;
      return undefined;
  }
}

/**
 * Writes one log line per observation, except for the throttled kinds: at most one line each per
 * `intervalMs`, and then one line with how many more there were. Returns the function that stops it.
 */
export function logObservations(observations: Observations, log: Logger, intervalMs = LOG_INTERVAL_MS): () => void {
  const lines = new Map<ObservationType, [LogLevel, string]>();
  const throttle = new LogThrottle<ObservationType>(intervalMs, (type, repeated) => {
    const line = lines.get(type);
    if (!line) return; // a type is throttled only after its first line was written
    const [level, msg] = line;
    log[level](`${msg} (and ${repeated} more like it in ${intervalMs / 1000} s; the metrics count each)`, {
      event: type,
      repeated,
      intervalSeconds: intervalMs / 1000,
    });
  });
  return observations.subscribe((observation) => {
    const line = lineFor(observation);
    if (!line) return;
    const [level, msg] = line;
    if (THROTTLED.has(observation.type)) {
      lines.set(observation.type, line);
      if (!throttle.admit(observation.type)) return;
    }
    const { type, ...fields } = observation;
    log[level](msg, { event: type, ...fields });
  });
}
