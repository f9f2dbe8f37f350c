/** The one error type of the emulator: a server command error with a code, a codeName and labels. */
import type { Document } from "bson";

const CODE_NAMES: Record<number, string> = {
  1: "InternalError",
  2: "BadValue",
  6: "HostUnreachable",
  7: "HostNotFound",
  9: "FailedToParse",
  11: "UserNotFound",
  13: "Unauthorized",
  14: "TypeMismatch",
  20: "IllegalOperation",
  26: "NamespaceNotFound",
  27: "IndexNotFound",
  40: "ConflictingUpdateOperators",
  43: "CursorNotFound",
  47: "NoMatchingDocument",
  48: "NamespaceExists",
  50: "MaxTimeMSExpired",
  59: "CommandNotFound",
  63: "StaleShardVersion",
  64: "WriteConcernFailed",
  66: "ImmutableField",
  67: "CannotCreateIndex",
  72: "InvalidOptions",
  73: "InvalidNamespace",
  85: "IndexOptionsConflict",
  86: "IndexKeySpecsConflict",
  89: "NetworkTimeout",
  91: "ShutdownInProgress",
  93: "InvalidReplicaSetConfig",
  95: "NotSecondary",
  96: "OperationFailed",
  112: "WriteConflict",
  133: "FailedToSatisfyReadPreference",
  134: "ReadConcernMajorityNotAvailableYet",
  150: "StaleEpoch",
  189: "PrimarySteppedDown",
  216: "ElectionInProgress",
  234: "RetryChangeStream",
  237: "CursorKilled",
  251: "NoSuchTransaction",
  260: "InvalidResumeToken",
  262: "ExceededTimeLimit",
  276: "IndexBuildAborted",
  280: "ChangeStreamFatalError",
  286: "ChangeStreamHistoryLost",
  9001: "SocketException",
  10107: "NotWritablePrimary",
  11000: "DuplicateKey",
  11600: "InterruptedAtShutdown",
  11601: "Interrupted",
  11602: "InterruptedDueToReplStateChange",
  13297: "DatabaseDifferCase",
  13388: "StaleConfig",
  13435: "NotPrimaryNoSecondaryOk",
  13436: "NotPrimaryOrSecondary",
  40324: "Location40324",
  40573: "Location40573",
  50795: "Location50795",
};

/** The server's name for an error code ("Location<code>" when it has none). */
export function codeNameOf(code: number): string {
  return CODE_NAMES[code] ?? `Location${code}`;
}

/** Codes after which the server labels a change stream getMore error `ResumableChangeStreamError`. */
export const RESUMABLE_CHANGE_STREAM_CODES = new Set([
  6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 63, 150, 13388, 234, 133,
]);

/** Codes after which the server labels a retryable write's error `RetryableWriteError`. */
export const RETRYABLE_WRITE_CODES = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 134]);

/** A command failure, sent back as `{ok: 0, errmsg, code, codeName, errorLabels?}`. */
export class CommandError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly labels?: string[],
    readonly extra?: Document,
  ) {
    super(message);
  }

  get codeName(): string {
    return codeNameOf(this.code);
  }

  /** The reply body (without $clusterTime/operationTime). */
  toReply(): Document {
    const reply: Document = { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName };
    if (this.labels && this.labels.length > 0) reply.errorLabels = this.labels;
    return this.extra ? { ...reply, ...this.extra } : reply;
  }
}
