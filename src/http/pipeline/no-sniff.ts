import type { Step } from "./exchange.ts";

/** No answer may be read as another type than it says (a JSON body sniffed as HTML): on every one, errors included. */
export const noSniff: Step = async (_exchange, next) => {
  const response = await next();
  response?.headers.set("X-Content-Type-Options", "nosniff");
  return response;
};
