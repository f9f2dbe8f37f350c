import * as v from "valibot";
import type { ChangeFeed } from "../../feed/change-feed.ts";
import type { FeedHistory } from "../../feed/history.ts";
import { HttpProblem } from "../problem.ts";
import { defineRoute, type Route } from "../route.ts";

export type HealthOptions = { feed: ChangeFeed; history: FeedHistory; connections: () => number };

const LiveSchema = v.object({ status: v.literal("live") });
const ReadySchema = v.object({ status: v.literal("ready"), position: v.nullable(v.string()), connections: v.number() });

export function healthRoutes({ feed, history, connections }: HealthOptions): Route[] {
  const live = defineRoute({
    method: "GET",
    path: "/health/live",
    summary: "Liveness: the process runs",
    access: "public",
    responses: { 200: { description: "live", schema: LiveSchema } },
    handle: () => Response.json({ status: "live" }),
  });

  const ready = defineRoute({
    method: "GET",
    path: "/health/ready",
    summary: "Readiness: the change stream is up",
    access: "public",
    responses: { 200: { description: "ready", schema: ReadySchema }, 503: "the change stream is down (with Retry-After)" },
    handle() {
      if (!feed.isUp) {
        const reason = feed.lastError instanceof Error ? feed.lastError.message : "not established";
        throw new HttpProblem(503, `The change stream is down: ${reason}`, { headers: { "Retry-After": "1" } });
      }
      return Response.json({ status: "ready", position: history.newestPosition ?? null, connections: connections() });
    },
  });

  return [live, ready];
}
