/**
 * A bench client of the feed over Server-Sent Events (GET /feed): a fetch whose body it reads
 * as it arrives, calling `onFrame` with each event's `data` (comments and `retry:` skipped).
 * Only what a client must do: find the event boundaries; it parses nothing else.
 */
export class EventStreamReader {
  #abort = new AbortController();
  isOpen = false;

  private constructor(
    private readonly onFrame: (data: string) => void,
    private readonly onClose: () => void,
  ) {}

  /** Resolves once the stream's headers arrived (rejects on a refusal). */
  static async open(url: string, onFrame: (data: string) => void, onClose: () => void): Promise<EventStreamReader> {
    const reader = new EventStreamReader(onFrame, onClose);
    const response = await fetch(url, { headers: { Accept: "text/event-stream" }, signal: reader.#abort.signal });
    if (!response.ok || !response.body) throw new Error(`GET ${url} answered ${response.status}`);
    reader.isOpen = true;
    void reader.#read(response.body);
    return reader;
  }

  close(): void {
    this.#abort.abort();
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = "";
    try {
      for await (const chunk of body) {
        buffered += decoder.decode(chunk, { stream: true });
        let start = 0;
        for (let end = buffered.indexOf("\n\n", start); end >= 0; end = buffered.indexOf("\n\n", start)) {
          const data = buffered.indexOf("data: ", start);
          if (data >= 0 && data < end) this.onFrame(buffered.slice(data + 6, end));
          start = end + 2;
        }
        buffered = buffered.slice(start);
      }
    } catch {
      // aborted, or the connection broke
    }
    this.isOpen = false;
    this.onClose();
  }
}
