import type { Logger } from "./logger.ts";
import { isMongoUnavailable } from "./mongo-availability.ts";
import { HttpProblem } from "./problem.ts";

/** The one error mapper: anything thrown while serving a request becomes a problem. */
export function toProblem(error: unknown, log: Logger): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (isMongoUnavailable(error)) {
    log.warn("MongoDB is unavailable; answered 503", { error });
    return new HttpProblem(503, "MongoDB is unavailable right now; retry shortly", { headers: { "Retry-After": "2" } });
  }
  log.error("unexpected error while serving a request", { error, stack: error instanceof Error ? error.stack : undefined });
  return new HttpProblem(500, "Something went wrong on our side; it has been logged");
}
