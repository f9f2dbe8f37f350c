/** Why the server is not ready: the public reason code of /health/ready's 503. */
export type ReadinessReason = "mongodb-unreachable" | "change-stream-down" | "change-stream-stalled";

/** `detail` names addresses and errors: it goes to the log, never into a response. */
export type ReadinessVerdict = { ready: true } | { ready: false; reason: ReadinessReason; detail: string };
