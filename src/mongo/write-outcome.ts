import { type MongoBulkWriteError, MongoServerError, type WriteError } from "mongodb";

/** What the write would have done to the post. */
export type WriteAction = "stored" | "edited" | "deleted";

/**
 * The write reached MongoDB (or may have: it was handed to a connection) and no answer came
 * back: a network error, the request's deadline, or a retry that failed too. The post may or
 * may not have been `action`; only reading it back (by `id`, chosen before the write) can tell.
 */
export class WriteOutcomeUnknown extends Error {
  constructor(
    readonly id: string,
    readonly action: WriteAction,
    override readonly cause: unknown,
  ) {
    super(`the post ${id} may or may not have been ${action}`);
  }
}

const DUPLICATE_KEY = 11000;

/** The server refused the write for a unique index: an answer, never an unknown outcome. */
export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

/**
 * An unordered insertMany's per-document errors, when the server answered for each document;
 * undefined when the failure concerns the whole batch (a write concern error, or no write errors).
 */
export function perDocumentErrors(error: MongoBulkWriteError): WriteError[] | undefined {
  const errors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
  return error.errorResponse.writeConcernError || errors.length === 0 ? undefined : errors;
}
