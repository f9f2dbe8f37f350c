import {
  MongoDriverError,
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoWriteConcernError,
} from "mongodb";
import { DeadlineExceeded } from "./deadline.ts";

// Server codes that mean "not now" (no primary, shutting down, timed out), not "your request is wrong".
const TRANSIENT_CODES = new Set([6, 7, 50, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

/**
 * True when an error says MongoDB cannot be reached or cannot serve right now: a 503, never a
 * 500. For a write this is only the answer once it is known nothing was sent (see PostsStore).
 */
export function isMongoUnavailable(error: unknown): boolean {
  if (
    error instanceof DeadlineExceeded ||
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoOperationTimeoutError ||
    error instanceof MongoWriteConcernError
  ) {
    return true;
  }
  // Not exported by the driver: a connection could not be checked out in time.
  if (error instanceof MongoDriverError && error.name === "MongoWaitQueueTimeoutError") return true;
  if (!(error instanceof MongoError)) return false;
  return error.hasErrorLabel("RetryableWriteError") || TRANSIENT_CODES.has(Number(error.code));
}
