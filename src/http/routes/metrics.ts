import type { FeedMetrics } from "../../observability/feed-metrics.ts";
import { defineRoute, type Route } from "../route.ts";

/** GET /metrics: Prometheus text format. Public like /health (it names no user, post or address). */
export function metricsRoute(metrics: FeedMetrics): Route {
  return defineRoute({
    method: "GET",
    path: "/metrics",
    summary: "Prometheus metrics (text format)",
    access: "public",
    responses: { 200: { description: "metrics in the Prometheus text exposition format" } },
    async handle() {
      return new Response(await metrics.text(), { headers: { "Content-Type": metrics.contentType } });
    },
  });
}
