/** A snapshot the server answered with an error; 400, 401 and 403 mean asking again cannot help. */
export class SnapshotRefused extends Error {
  readonly reason: string;
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`GET /posts answered ${status}`);
    let problem: { detail?: string; issues?: { message: string }[] } = {};
    try {
      problem = JSON.parse(body);
    } catch {
      // not problem+json: the status says enough
    }
    this.reason = problem.issues?.[0]?.message ?? problem.detail ?? this.message;
  }

  get terminal(): boolean {
    return this.status === 400 || this.status === 401 || this.status === 403;
  }
}
