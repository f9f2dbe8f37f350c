/**
 * Where the feed hands its frames: every socket subscribed to `topic` gets `frame`.
 * Implementations must send synchronously, so that appending to the history and
 * publishing stay one step.
 */
export interface Publisher {
  /** Returns how many connections the frame was sent to; `position` is the frame's (post frames only). */
  publish(topic: string, frame: string, position?: string): number;
  /** Undefined when it can take the next frame now; otherwise resolves when it can (back-pressure). */
  ready?(): Promise<void> | undefined;
}
