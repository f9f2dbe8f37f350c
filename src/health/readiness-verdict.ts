/** Why the server is not ready: the public reason code of /health/ready's 503. */
export type ReadinessReason = "mongodb-unreachable" | "no-primary" | "change-stream-down" | "change-stream-stalled";

/**
 * `primary: false` is ready all the same: the feed streams (from a secondary) while writes wait
 * for an election. `detail` names addresses and errors: it goes to the log, never into a response.
 */
export type ReadinessVerdict = { ready: true; primary: boolean } | { ready: false; reason: ReadinessReason; detail: string };
