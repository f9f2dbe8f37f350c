import { createParser } from "eventsource-parser";
import { ABNORMAL_CLOSURE, type Connection, type ConnectionEvents } from "./connection.ts";

/** Refusals asking again cannot help, as the WebSocket's terminal close codes (4000 + the HTTP status). */
const TERMINAL_STATUSES = new Set([400, 401, 403]);
/** What a full server (429, 503) is told over a WebSocket: try again later. */
const TRY_AGAIN_LATER = 1013;

/**
 * The feed over Server-Sent Events, read with fetch (so that a token can travel in
 * Authorization, and a refusal's status and problem can be read, which EventSource hides).
 * An HTTP refusal becomes the close a WebSocket would report: 400/401/403 as 4400/4401/4403
 * (terminal), 429/503 as 1013; a stream that breaks without a `close` frame as 1006.
 */
export function openEventStreamConnection(
  fetchImpl: typeof fetch,
  url: URL,
  bearer: string | undefined,
  events: ConnectionEvents,
): Connection {
  const abort = new AbortController();
  let closed = false;
  const finish = (close: { code: number; reason: string }) => {
    if (closed) return;
    closed = true;
    abort.abort();
    events.close(close);
  };

  void (async () => {
    let response: Response;
    try {
      const headers: Record<string, string> = { Accept: "text/event-stream", ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}) };
      response = await fetchImpl(url, { headers, signal: abort.signal, cache: "no-store" });
    } catch {
      return finish({ code: ABNORMAL_CLOSURE, reason: "could not reach the event stream" });
    }
    if (!response.ok || !response.body) {
      const reason = await problemReason(response);
      const code = TERMINAL_STATUSES.has(response.status)
        ? 4000 + response.status
        : response.status === 429 || response.status === 503
          ? TRY_AGAIN_LATER
          : ABNORMAL_CLOSURE;
      return finish({ code, reason });
    }
    if (closed) return;
    events.open();
    // The event-stream format (fields, line endings, comments) is read by a parser made for it.
    const parser = createParser({
      onEvent({ data }) {
        if (closed) return;
        const close = closeFrame(data);
        if (close) finish(close);
        else events.message(data);
      },
    });
    try {
      const decoder = new TextDecoder();
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        parser.feed(decoder.decode(chunk, { stream: true }));
        if (closed) return;
      }
    } catch {
      // the connection broke, or close() aborted it
    }
    finish({ code: ABNORMAL_CLOSURE, reason: "the event stream ended without a close frame" });
  })();

  return {
    send: () => false,
    close(code, reason) {
      finish({ code, reason });
    },
  };
}

/** The stream's final `{"type":"close","code","reason"}` frame, if `data` is one. */
function closeFrame(data: string): { code: number; reason: string } | undefined {
  if (!data.startsWith('{"type":"close"')) return undefined;
  const frame = JSON.parse(data) as { code: number; reason: string };
  return { code: frame.code, reason: frame.reason };
}

/** The words of a problem+json answer, or its status. */
async function problemReason(response: Response): Promise<string> {
  try {
    const problem = (await response.json()) as { detail?: string; issues?: { message: string }[] };
    return problem.issues?.[0]?.message ?? problem.detail ?? `GET /feed answered ${response.status}`;
  } catch {
    return `GET /feed answered ${response.status}`;
  }
}
