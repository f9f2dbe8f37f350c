import * as v from "valibot";
import type { Logger } from "../observability/logger.ts";
import { isMongoUnavailable } from "../mongo/availability.ts";
import { isDuplicateKey, WriteOutcomeUnknown } from "../mongo/write-outcome.ts";

/** One `{ path, message }` entry of a validation problem. */
export type ProblemIssue = { path: string; message: string };

const titles: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  421: "Misdirected Request",
  422: "Unprocessable Content",
  426: "Upgrade Required",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** The one HTTP error type: thrown anywhere in a request, turned into RFC 9457 problem+json by `problemResponse`. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    /** `members` are extension members of the problem (RFC 9457 section 3.2), e.g. a reason code. */
    readonly extras: { issues?: ProblemIssue[]; headers?: Record<string, string>; members?: Record<string, string> } = {},
  ) {
    super(detail);
  }
}

/** A 400 listing every schema issue by field (`""` for the body or query itself). */
export function validationProblem(detail: string, issues: readonly v.BaseIssue<unknown>[]): HttpProblem {
  return new HttpProblem(400, detail, {
    issues: issues.map((issue) => ({ path: v.getDotPath(issue) ?? "", message: issue.message })),
  });
}

/** The one error mapper: anything thrown while serving a request becomes a problem. */
export function toProblem(error: unknown, log: Logger): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof WriteOutcomeUnknown) {
    log.warn("a write may or may not have been applied; answered 504", { id: error.id, error: error.cause });
    const location = `/posts/${error.id}`;
    const advice =
      error.action === "stored"
        ? `Check GET ${location} before posting it again, or retry with the same Idempotency-Key`
        : `Check GET ${location} before trying again`;
    return new HttpProblem(504, `MongoDB did not confirm the write in time: the post may or may not have been ${error.action}. ${advice}`, {
      members: { id: error.id, location },
    });
  }
  if (isMongoUnavailable(error)) {
    log.warn("MongoDB is unavailable; answered 503", { error });
    return new HttpProblem(503, "MongoDB is unavailable right now; retry shortly", { headers: { "Retry-After": "2" } });
  }
  // A unique index an operator added on posts: the request is fine, the data says no.
  if (isDuplicateKey(error)) {
    return new HttpProblem(409, "The post conflicts with a stored document (a unique index on the posts collection)");
  }
  log.error("unexpected error while serving a request", { error, stack: error instanceof Error ? error.stack : undefined });
  return new HttpProblem(500, "Something went wrong on our side; it has been logged");
}

/**
 * Bun.serve's `error` handler: only a bug reaches it (the router maps every error it sees),
 * and it answers like the router would, a logged 500 without details.
 */
export function serverErrorHandler(log: Logger): (error: Error) => Response {
  return (error) => problemResponse(toProblem(error, log));
}

export function problemResponse(problem: HttpProblem, instance?: string): Response {
  const body = {
    type: "about:blank",
    title: titles[problem.status] ?? "Error",
    status: problem.status,
    detail: problem.detail,
    ...(instance ? { instance } : {}),
    ...problem.extras.members,
    ...(problem.extras.issues ? { issues: problem.extras.issues } : {}),
  };
  return new Response(JSON.stringify(body), {
    status: problem.status,
    headers: { "Content-Type": "application/problem+json", "X-Content-Type-Options": "nosniff", ...problem.extras.headers },
  });
}
