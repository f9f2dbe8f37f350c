import * as v from "valibot";
import type { FeedHistory } from "../../feed/history.ts";
import type { Readiness, ReadinessReason } from "../../health/readiness.ts";
import { HttpProblem } from "../problem.ts";
import { defineRoute, type Route } from "../route.ts";

export type HealthOptions = { readiness: Readiness; history: FeedHistory; connections: () => number };

const LiveSchema = v.object({ status: v.literal("live") });
const ReadySchema = v.object({
  status: v.literal("ready"),
  position: v.nullable(v.string()),
  connections: v.number(),
  /** false during an election: the feed streams, writes wait for a new primary (up to their deadline). */
  primary: v.boolean(),
});

// Public words only: addresses and driver errors go to the log (the readiness-changed observation).
const notReady: Record<ReadinessReason, string> = {
  "mongodb-unreachable": "MongoDB cannot be reached",
  "no-primary": "The replica set has no primary, and the change stream reads from the primary (FEED_READ_PREFERENCE)",
  "change-stream-down": "The change stream is down; it is restarting",
  "change-stream-stalled": "The change stream has not heard from MongoDB within its await window",
};

export function healthRoutes({ readiness, history, connections }: HealthOptions): Route[] {
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
    summary:
      "Readiness: MongoDB answers and the change stream is up and making progress (primary: false while writes wait for an election)",
    access: "public",
    responses: {
      200: { description: "ready", schema: ReadySchema },
      503: "not ready, with a reason code: mongodb-unreachable, no-primary, change-stream-down or change-stream-stalled (with Retry-After)",
    },
    handle() {
      const verdict = readiness.check();
      if (!verdict.ready) {
        throw new HttpProblem(503, notReady[verdict.reason], { headers: { "Retry-After": "1" }, members: { reason: verdict.reason } });
      }
      return Response.json({
        status: "ready",
        position: history.newestPosition ?? null,
        connections: connections(),
        primary: verdict.primary,
      });
    },
  });

  return [live, ready];
}
