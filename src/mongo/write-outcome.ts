/**
 * The write reached MongoDB (or may have: it was handed to a connection) and no answer came
 * back: a network error, the request's deadline, or a retry that failed too. The document may
 * or may not be stored; only reading it back (by `id`, chosen before the write) can tell.
 */
export class WriteOutcomeUnknown extends Error {
  constructor(
    readonly id: string,
    override readonly cause: unknown,
  ) {
    super(`the write of ${id} may or may not have been applied`);
  }
}
