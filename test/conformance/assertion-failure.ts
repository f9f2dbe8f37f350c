/** An assertion about the server's behaviour failed (as opposed to a runner error). */
export class AssertionFailure extends Error {}
