import type { OriginPolicy } from "../origin-policy.ts";
import { HttpProblem } from "../problem.ts";
import type { Route } from "../route.ts";
import type { Step } from "./exchange.ts";

type PathGroup = { path: string; pattern: RegExp; names: string[]; byMethod: Map<string, Route> };

/**
 * Matches a path, then a method: an unknown path is a 404, a known path with the wrong method
 * a 405 with `Allow`; OPTIONS answers with the path's methods (and CORS grants for allowed origins).
 */
export function matchRoute(routes: readonly Route[], origins: OriginPolicy): Step {
  const groups = groupByPath(routes);
  return (exchange, next) => {
    const { request, url } = exchange;
    const pathname = url?.pathname ?? "";
    for (const group of groups) {
      const match = group.pattern.exec(pathname);
      if (!match) continue;
      exchange.routeTemplate = group.path;
      if (request.method === "OPTIONS") return Promise.resolve(origins.preflight(request, allowedMethods(group)));
      const route = group.byMethod.get(request.method === "HEAD" ? "GET" : request.method);
      if (!route) {
        throw new HttpProblem(405, `${request.method} is not allowed on ${pathname}`, {
          headers: { Allow: `${allowedMethods(group)}, OPTIONS` },
        });
      }
      exchange.matched = { route, segments: Object.fromEntries(group.names.map((name, index) => [name, match[index + 1]])) };
      return next();
    }
    throw new HttpProblem(404, `Nothing lives at ${pathname}`);
  };
}

function groupByPath(routes: readonly Route[]): PathGroup[] {
  const groups = new Map<string, PathGroup>();
  for (const route of routes) {
    let group = groups.get(route.path);
    if (!group) {
      const names = [...route.path.matchAll(/:(\w+)/g)].map((found) => found[1] ?? "");
      const pattern = new RegExp(`^${route.path.replace(/:\w+/g, "([^/]+)")}$`);
      group = { path: route.path, pattern, names, byMethod: new Map() };
      groups.set(route.path, group);
    }
    if (group.byMethod.has(route.method)) throw new Error(`two routes for ${route.method} ${route.path}`);
    group.byMethod.set(route.method, route);
  }
  return [...groups.values()];
}

function allowedMethods(group: PathGroup): string {
  const methods = [...group.byMethod.keys()];
  return (methods.includes("GET") ? [...methods, "HEAD"] : methods).join(", ");
}
