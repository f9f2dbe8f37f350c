import type { Logger } from "../../observability/logger.ts";
import type { Observations } from "../../observability/observations.ts";
import { HttpProblem, problemResponse, toProblem } from "../problem.ts";
import type { Step } from "./exchange.ts";

/** Anything a later step throws becomes one problem+json answer, through the one mapper. */
export function mapErrors(log: Logger, observations: Observations): Step {
  return async (exchange, next) => {
    try {
      return await next();
    } catch (error) {
      const { request } = exchange;
      const path = exchange.url?.pathname;
      if (clientWentAway(request, error)) {
        // Nobody is left to answer, and nothing for an operator to act on.
        observations.emit({ type: "request-aborted", method: request.method, path: path ?? "" });
        return problemResponse(new HttpProblem(400, "The client closed the connection before the request was complete"), path);
      }
      return problemResponse(toProblem(error, log), path);
    }
  };
}

/** The body stopped because the client disconnected (Bun aborts the request's signal). */
function clientWentAway(request: Request, error: unknown): boolean {
  return request.signal.aborted && error instanceof Error && error.name === "AbortError";
}
