import type { Step } from "./exchange.ts";

/** Every answer, errors included, carries the exchange's headers (CORS grants, rate-limit state). */
export const answerHeaders: Step = async (exchange, next) => {
  const response = await next();
  return response && withHeaders(response, exchange.headers);
};

/** Adds headers to a response; Vary is appended, never replaced, and never twice. */
export function withHeaders(response: Response, headers: Record<string, string>): Response {
  for (const [name, value] of Object.entries(headers)) {
    if (name !== "Vary") response.headers.set(name, value);
    else if (
      !response.headers
        .get("Vary")
        ?.split(/\s*,\s*/)
        .includes(value)
    )
      response.headers.append(name, value);
  }
  return response;
}
