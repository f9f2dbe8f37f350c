import type { Server } from "bun";
import { toProblem } from "./http-error.ts";
import type { Logger } from "./logger.ts";
import { HttpProblem, problemResponse } from "./problem.ts";

export type RequestContext = { request: Request; server: Server<unknown>; url: URL; params: string[] };
export type Handler = (context: RequestContext) => Promise<Response | undefined> | Response | undefined;
export type Route = { path: RegExp; methods: Partial<Record<"GET" | "POST", Handler>> };

/**
 * Matches a path, then a method: an unknown path is a 404, a known path with the wrong
 * method a 405 with `Allow`. Every error goes through the one mapper.
 */
export function createRouter(routes: readonly Route[], log: Logger) {
  return async (request: Request, server: Server<unknown>): Promise<Response | undefined> => {
    const url = new URL(request.url);
    log.debug("request", { method: request.method, path: url.pathname });
    try {
      for (const route of routes) {
        const match = route.path.exec(url.pathname);
        if (!match) continue;
        const method = request.method === "HEAD" ? "GET" : request.method;
        const handler = route.methods[method as keyof Route["methods"]];
        if (!handler) {
          throw new HttpProblem(405, `${request.method} is not allowed on ${url.pathname}`, {
            headers: { Allow: allowedMethods(route) },
          });
        }
        return await handler({ request, server, url, params: match.slice(1) });
      }
      throw new HttpProblem(404, `Nothing lives at ${url.pathname}`);
    } catch (error) {
      return problemResponse(toProblem(error, log), url.pathname);
    }
  };
}

function allowedMethods(route: Route): string {
  const methods = Object.keys(route.methods);
  return (methods.includes("GET") ? [...methods, "HEAD"] : methods).join(", ");
}
