/** An assertion about the server's behaviour failed (as opposed to a runner error). */
export class AssertionFailure extends Error {}

/** The phrase every runner gap carries, so the summary can count them apart from server differences. */
export const NOT_SUPPORTED = "is not supported by this runner";

/** A test needs something this runner does not implement: a gap in the runner, never the server's. */
export class NotSupportedByRunner extends Error {
  constructor(what: string) {
    super(`${what} ${NOT_SUPPORTED}`);
  }
}
