import type { HostLimits } from "../config/host-limits.ts";
import type { ResyncReason } from "../protocol/frames.ts";
import type { ReadinessReason } from "../health/readiness-verdict.ts";

/**
 * What the server reports about itself, as typed events: the logger subscribes (one line
 * each), and so can metrics and tests. Emitters never depend on who listens.
 */
export type Observation =
  | { type: "listening"; http: string; websocket: string; database: string }
  | {
      type: "limits";
      openFileLimit: number | undefined;
      reservedDescriptors: number | undefined;
      wsMaxConnections: number;
      wsMaxConnectionsPerIp: number;
      memoryBytes: number;
      memorySource: HostLimits["memorySource"];
      sendBufferTotal: number;
      sendBufferLimit: number;
      requestTimeoutMs: number;
    }
  | { type: "signal-received"; signal: string }
  /** Which Host names requests are answered for (ALLOWED_HOSTS). */
  | { type: "hosts-accepted"; hosts: string }
  /** A bug: a promise nobody awaited rejected, or an exception reached the top; the server goes on. */
  | { type: "unhandled-rejection"; error: unknown }
  | { type: "uncaught-exception"; error: unknown }
  | { type: "request"; method: string; path: string }
  | { type: "request-aborted"; method: string; path: string }
  | { type: "forwarded-for-ignored" }
  | { type: "auth-off" }
  | {
      type: "access-refused";
      transport: "http" | "websocket";
      failure: "missing" | "invalid" | "unavailable" | "forbidden";
      description: string;
    }
  /** A key fetch failed: the `failures`-th in a row; the next is in `retryInMs`. */
  | { type: "jwks-unavailable"; url: string; error: unknown; failures: number; retryInMs: number }
  | { type: "jwks-available"; url: string; failures: number }
  /** `unchanged`: the same token as the socket's last refresh, answered without checking it again. */
  | { type: "token-refreshed"; expiresAt: string; unchanged: boolean }
  | { type: "write-rate-limited"; retryAfterSeconds: number }
  | { type: "shutting-down" }
  | { type: "stopped" }
  | { type: "stream-resuming"; floor: string | undefined }
  | { type: "stream-up"; position: string | undefined }
  | { type: "stream-down"; error: unknown; attempt: number; delayMs: number }
  | { type: "stream-resync"; reason: Extract<ResyncReason, "history-lost" | "collection-invalidated">; error?: unknown }
  | { type: "document-skipped"; documentKey: string; problems: string[] }
  | { type: "images-unavailable"; error: unknown }
  | { type: "post-image-missing"; position: string; id: string }
  | { type: "checkpoint-failed"; error: unknown }
  | { type: "socket-opened"; connections: number }
  | { type: "socket-refused"; code: number; reason: string }
  | { type: "socket-closed"; code: number; reason: string; connections: number }
  /** `dropped`: without a close frame, because the sockets closing already hold half of WS_SEND_BUFFER_TOTAL. */
  | { type: "slow-client-closed"; bufferedBytes: number; limit: number; dropped: boolean }
  | { type: "send-budget-exceeded"; bufferedBytes: number; closingBytes: number; budget: number; closed: number; dropped: number }
  | { type: "connection-refused"; cap: "total" | "per-address"; limit: number; address: string }
  /** No member takes writes any more (an election is under way, or the primary is gone). */
  | { type: "primary-lost"; previous: string | undefined }
  /** A primary again, or a new one while one was known (a step-down seen only afterwards): an election. */
  | { type: "primary-elected"; primary: string; withoutPrimaryMs: number }
  | { type: "readiness-changed"; ready: true; primary: boolean }
  | { type: "readiness-changed"; ready: false; reason: ReadinessReason; detail: string }
  | { type: "socket-closed-by-server"; code: number }
  /** An SSE feed stream started (`streams`: how many are open now). */
  | { type: "event-stream-opened"; streams: number }
  /** An SSE feed stream ended: `code` is its close frame's, undefined when the client left. */
  | { type: "event-stream-closed"; code: number | undefined; streams: number }
  /** POSTs inserted together (one insertMany). */
  | { type: "group-commit"; size: number }
  /** A change document read from the stream, with how long after its commit. */
  | { type: "change-event"; operation: string; lagMs: number | undefined }
  /** One event's frames published (by frame type, counted per socket), and how long that took. */
  | { type: "broadcast"; durationMs: number; frames: Partial<Record<string, number>>; bytes: number; resync?: ResyncReason }
  /** What a socket connecting with `since` got. */
  | { type: "replay"; outcome: "replayed" | "cut" | ResyncReason; frames: Partial<Record<string, number>>; bytes: number }
  | { type: "response"; method: string; route: string; status: number; durationMs: number };

export type ObservationType = Observation["type"];
export type Observer = (observation: Observation) => void;

/** A tiny synchronous event bus: `emit` calls every subscriber in order. */
export class Observations {
  readonly #observers = new Set<Observer>();

  /** Returns the function that unsubscribes. */
  subscribe(observer: Observer): () => void {
    this.#observers.add(observer);
    return () => this.#observers.delete(observer);
  }

  emit(observation: Observation): void {
    for (const observer of this.#observers) observer(observation);
  }
}
