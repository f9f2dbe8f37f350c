import { createHash, timingSafeEqual } from "node:crypto";
import type { FeedMetrics } from "../../observability/feed-metrics.ts";
import { HttpProblem } from "../problem.ts";
import { defineRoute, type Route } from "../route.ts";

const UNAUTHORIZED = "GET /metrics needs Authorization: Bearer <METRICS_TOKEN>";

/**
 * GET /metrics: Prometheus text format. It names no user, post or address, but it does show
 * memory, descriptors and event-loop lag; with METRICS_TOKEN set only a scraper with the token
 * may read it. The token is compared in constant time (as SHA-256 digests: equal lengths always).
 */
export function metricsRoute(metrics: FeedMetrics, token?: string): Route {
  const expected = token === undefined ? undefined : digest(token);
  return defineRoute({
    method: "GET",
    path: "/metrics",
    summary: "Prometheus metrics (text format)",
    access: "public",
    responses: expected
      ? { 200: { description: "metrics in the Prometheus text exposition format" }, 401: UNAUTHORIZED }
      : { 200: { description: "metrics in the Prometheus text exposition format" } },
    async handle({ request }) {
      if (expected) {
        const sent = /^Bearer +(\S+) *$/i.exec(request.headers.get("authorization") ?? "")?.[1];
        if (sent === undefined || !timingSafeEqual(digest(sent), expected)) {
          throw new HttpProblem(401, UNAUTHORIZED, { headers: { "WWW-Authenticate": 'Bearer realm="metrics"' } });
        }
      }
      return new Response(await metrics.text(), { headers: { "Content-Type": metrics.contentType } });
    },
  });
}

const digest = (text: string) => createHash("sha256").update(text).digest();
