import type { Logger, LogLevel } from "./logger.ts";
import type { Observation, Observations } from "./observations.ts";

type Line = [LogLevel, string];

/** How each observation reads in the log; the fields are the observation's own, plus `event`. */
function lineFor(observation: Observation): Line {
  switch (observation.type) {
    case "listening":
      return ["info", "listening"];
    case "limits":
      return ["info", "limits: WebSocket connections (from the open-file limit) and queued bytes (from memory)"];
    case "signal-received":
      return ["info", "signal received; shutting down (send it again to exit at once)"];
    case "request":
      return ["debug", "request"];
    case "request-aborted":
      return ["debug", "the client closed the connection before its request was complete"];
    case "forwarded-for-ignored":
      return ["warn", "a request carries X-Forwarded-For but TRUST_PROXY is off: per-address limits apply to the proxy as a whole"];
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
    case "checkpoint-failed":
      return ["warn", "could not persist the feed position"];
    case "socket-opened":
      return ["debug", "socket opened"];
    case "socket-refused":
      return ["debug", "socket refused"];
    case "socket-closed":
      return ["debug", "socket closed"];
    case "slow-client-closed":
      return ["warn", "closed a slow client"];
    case "send-budget-exceeded":
      return ["warn", "WebSocket send buffers passed WS_SEND_BUFFER_TOTAL; closed the clients holding the most"];
    case "connection-refused":
      return ["debug", "refused a WebSocket connection: a connection cap is reached"];
    case "readiness-changed":
      return observation.ready ? ["info", "ready again"] : ["warn", "not ready"];
  }
}

/** Writes one log line per observation; returns the function that stops it. */
export function logObservations(observations: Observations, log: Logger): () => void {
  return observations.subscribe((observation) => {
    const [level, msg] = lineFor(observation);
    const { type, ...fields } = observation;
    log[level](msg, { event: type, ...fields });
  });
}
