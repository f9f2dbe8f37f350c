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
