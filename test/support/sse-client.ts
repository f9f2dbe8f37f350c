import type { FeedFrame } from "../../src/protocol/frames.ts";
import type { StreamCloseFrame } from "../../src/protocol/stream-close.ts";

/** One event of a text/event-stream, as the wire carried it. */
export type SseEvent = { id?: string; data: string; frame: FeedFrame | StreamCloseFrame };

/**
 * A Server-Sent Events reader over a real HTTP connection (fetch): records every event, the
 * `retry:` value and the comment lines, and lets a test await conditions on them, never a sleep.
 */
export class SseClient implements AsyncDisposable {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  retry: number | undefined;
  /** Resolves when the server ends the stream (or the connection breaks). */
  readonly ended: Promise<void>;
  readonly #abort: AbortController;
  #checks = new Set<() => void>();
  #done = false;

  private constructor(
    readonly response: Response,
    abort: AbortController,
  ) {
    this.#abort = abort;
    this.ended = this.#read().finally(() => {
      this.#done = true;
      for (const check of this.#checks) check();
    });
  }

  /** Opens `GET url` and resolves once the headers arrived (whatever the status). */
  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const abort = new AbortController();
    const response = await fetch(url, { headers: { Accept: "text/event-stream", ...headers }, signal: abort.signal });
    return new SseClient(response, abort);
  }

  get frames(): (FeedFrame | StreamCloseFrame)[] {
    return this.events.map((event) => event.frame);
  }

  get inserts() {
    return this.frames.filter((frame) => frame.type === "insert");
  }

  /** The last event id seen: what EventSource would send as Last-Event-ID. */
  get lastEventId(): string | undefined {
    return this.events.findLast((event) => event.id !== undefined)?.id;
  }

  /** Resolves as soon as `condition` holds (checked on every event and at the end). */
  until(condition: (client: SseClient) => boolean, timeoutMs = 15_000, what = "the condition"): Promise<void> {
    if (condition(this)) return Promise.resolve();
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const timer = setTimeout(() => {
      this.#checks.delete(check);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${this.events.length} events)`));
    }, timeoutMs);
    const check = () => {
      if (condition(this)) {
        clearTimeout(timer);
        this.#checks.delete(check);
        resolve();
      } else if (this.#done) {
        clearTimeout(timer);
        this.#checks.delete(check);
        reject(new Error(`the stream ended before ${what} (${this.events.length} events)`));
      }
    };
    this.#checks.add(check);
    return promise;
  }

  untilInserts(count: number, timeoutMs = 15_000): Promise<void> {
    return this.until(() => this.inserts.length >= count, timeoutMs, `${count} inserts`);
  }

  close(): void {
    this.#abort.abort();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.ended;
  }

  async #read(): Promise<void> {
    if (!this.response.body) return;
    const decoder = new TextDecoder();
    let buffered = "";
    try {
      for await (const chunk of this.response.body) {
        buffered += decoder.decode(chunk, { stream: true });
        for (let end = buffered.indexOf("\n\n"); end >= 0; end = buffered.indexOf("\n\n")) {
          this.#block(buffered.slice(0, end));
          buffered = buffered.slice(end + 2);
        }
      }
    } catch {
      // aborted by close(), or the connection broke: the events so far stand
    }
  }

  #block(block: string): void {
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) this.comments.push(line.slice(1).trim());
      else if (line.startsWith("id: ")) id = line.slice(4);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
      else if (line.startsWith("retry: ")) this.retry = Number(line.slice(7));
      else throw new Error(`unexpected line in the event stream: ${JSON.stringify(line)}`);
    }
    if (data.length > 0) {
      const text = data.join("\n");
      this.events.push({ ...(id === undefined ? {} : { id }), data: text, frame: JSON.parse(text) });
    }
    for (const check of this.#checks) check();
  }
}
