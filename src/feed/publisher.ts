/**
 * Where the feed hands its frames: every socket subscribed to `topic` gets `frame`.
 * Implementations must send synchronously, so that appending to the history and
 * publishing stay one step.
 */
export interface Publisher {
  publish(topic: string, frame: string): void;
  /** Undefined when it can take the next frame now; otherwise resolves when it can (back-pressure). */
  ready?(): Promise<void> | undefined;
}
