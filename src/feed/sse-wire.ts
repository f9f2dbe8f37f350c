import type { Position } from "../protocol/frames.ts";

// The text/event-stream wire format (WHATWG HTML, "Server-sent events"): every frame is one
// `data:` line (JSON never holds a raw newline), post frames carry their position as `id:`.

const encoder = new TextEncoder();

/** How long EventSource waits before it reconnects by itself, sent once at the start. */
export const SSE_RETRY_MS = 1_000;

/** One event: `id: <position>` (post frames) and the frame, exactly as the WebSocket sends it. */
export function sseEvent(frame: string, position?: Position): Uint8Array {
  return encoder.encode(position === undefined ? `data: ${frame}\n\n` : `id: ${position}\ndata: ${frame}\n\n`);
}

/** The first bytes of every stream: the reconnect delay, and a comment that gets the headers through proxies at once. */
export const SSE_PREAMBLE = encoder.encode(`retry: ${SSE_RETRY_MS}\n: mongo-feed\n\n`);

/** A comment line: ignored by EventSource, it keeps proxies and load balancers from closing a quiet stream. */
export const SSE_HEARTBEAT = encoder.encode(":\n\n");

/** The final frame of a stream the server ends. */
export function sseCloseEvent(close: { code: number; reason: string }): Uint8Array {
  return sseEvent(JSON.stringify({ type: "close", code: close.code, reason: close.reason }));
}

/** The headers of every event stream: never cached, never buffered by nginx (X-Accel-Buffering). */
export const SSE_HEADERS = {
  "Content-Type": "text/event-stream",
  "Cache-Control": "no-cache",
  "X-Accel-Buffering": "no",
} as const;
