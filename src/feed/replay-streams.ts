import type { Observations } from "../observability/observations.ts";
import type { Position, ResyncReason } from "../protocol/frames.ts";
import { resyncFrame } from "./frame-encoding.ts";
import type { FeedHistory } from "./history.ts";
import type { FeedSocket, ReplayState } from "./socket-data.ts";

export type { ReplayState };

/** A socket's replay in progress: where it resumes, and what it sent so far. */

/** A replaying socket is written to while it holds less than this; then it waits until it drains. */
export const REPLAY_WINDOW_BYTES = 64 * 1024;
/** Frames read from the history at a time. */
const FRAMES_PER_CHUNK = 64;
/** The longest one turn of the event loop spends on replays before letting everything else run. */
const SLICE_MS = 5;
const OPEN = 1;

export type ReplayStreamsOptions = {
  history: FeedHistory;
  observations: Observations;
  /** Counts bytes just queued against the send budget; true when the budget is pressed (replays pause until it is measured). */
  queued: (bytes: number) => boolean;
  /** The replay reached the newest event (or a resync was sent): subscribe the socket, in the same synchronous step. */
  caughtUp: (ws: FeedSocket) => void;
};

/**
 * Replays (`since`) streamed as sockets drain rather than queued whole: a replaying socket holds
 * at most REPLAY_WINDOW_BYTES (plus one frame) in its send buffer and a position in the history,
 * never a copy of it. Sockets take turns, a window each, in slices of at most SLICE_MS per turn
 * of the event loop, so a thousand sockets replaying megabytes cannot starve the change stream
 * or the health checks. A socket that stopped reading simply stops being written to.
 */
export class ReplayStreams {
  /** Replaying sockets with room in their send buffer, in turn order. */
  readonly #ready = new Set<FeedSocket>();
  /** Replaying sockets waiting for their send buffer to drain. */
  readonly #waiting = new Set<FeedSocket>();
  #scheduled = false;
  #paused = false;

  constructor(private readonly options: ReplayStreamsOptions) {}

  /** Sockets replaying now. */
  get size(): number {
    return this.#ready.size + this.#waiting.size;
  }

  /** Starts a socket's replay after `since` (or sends the resync its handshake already knew of) with a first window at once. */
  start(ws: FeedSocket, since: Position, resync: ResyncReason | undefined): void {
    ws.data.replay = { since, frames: {}, bytes: 0 };
    if (resync) this.#finish(ws, resync);
    else this.#take(ws);
  }

  /** Bun's drain: the socket's send buffer emptied some. */
  drained(ws: FeedSocket): void {
    if (!this.#waiting.delete(ws)) return;
    this.#ready.add(ws);
    this.#schedule();
  }

  /** The socket closed mid-replay. */
  stopped(ws: FeedSocket): void {
    const state = ws.data.replay;
    if (!state) return;
    ws.data.replay = undefined;
    this.#ready.delete(ws);
    this.#waiting.delete(ws);
    this.options.observations.emit({ type: "replay", outcome: "cut", frames: state.frames, bytes: state.bytes });
  }

  /** After the send budget was measured (every sweep): resume paused replays and those whose buffer drained without an event. */
  resume(): void {
    this.#paused = false;
    for (const ws of this.#waiting) {
      if (ws.getBufferedAmount() < REPLAY_WINDOW_BYTES / 2) this.drained(ws);
    }
    if (this.#ready.size > 0) this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#paused) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    const started = performance.now();
    for (const ws of [...this.#ready]) {
      if (this.#paused || performance.now() - started > SLICE_MS) break;
      if (!this.#ready.delete(ws)) continue;
      this.#take(ws);
    }
    if (this.#ready.size > 0) this.#schedule();
  }

  /** Sends the socket up to one window of its replay, then files it as ready, waiting, or caught up. */
  #take(ws: FeedSocket): void {
    const state = ws.data.replay;
    const subscription = ws.data.subscription; // gone once the server closes the socket; `stopped` follows
    if (!state || !subscription || ws.readyState !== OPEN) return;
    const filter = subscription.filter;
    let sent = 0;
    let end: ResyncReason | "replayed" | undefined;
    ws.cork(() => {
      while (sent < REPLAY_WINDOW_BYTES && ws.getBufferedAmount() < REPLAY_WINDOW_BYTES) {
        const chunk = this.options.history.chunkAfter(state.since, filter, FRAMES_PER_CHUNK);
        if (typeof chunk === "string") {
          end = chunk;
          return;
        }
        for (const { kind, frame, position } of chunk.frames) {
          ws.send(frame);
          const bytes = Buffer.byteLength(frame);
          sent += bytes;
          state.bytes += bytes;
          state.frames[kind] = (state.frames[kind] ?? 0) + 1;
          state.since = position;
          if (sent >= REPLAY_WINDOW_BYTES || ws.getBufferedAmount() >= REPLAY_WINDOW_BYTES) return;
        }
        state.since = chunk.through;
        if (chunk.done) {
          end = "replayed";
          return;
        }
      }
    });
    if (this.options.queued(sent)) this.#paused = true;
    if (end) this.#finish(ws, end);
    else if (ws.getBufferedAmount() >= REPLAY_WINDOW_BYTES) this.#waiting.add(ws);
    else {
      this.#ready.add(ws);
      this.#schedule();
    }
  }

  /** Done: a resync if the history could not place the position, then the live subscription, in this same step. */
  #finish(ws: FeedSocket, end: ResyncReason | "replayed"): void {
    const state = ws.data.replay;
    if (!state) return; // finished already
    ws.data.replay = undefined;
    if (end !== "replayed") {
      const frame = resyncFrame(end);
      ws.send(frame);
      state.frames.resync = (state.frames.resync ?? 0) + 1;
      state.bytes += Buffer.byteLength(frame);
    }
    this.options.observations.emit({ type: "replay", outcome: end, frames: state.frames, bytes: state.bytes });
    this.options.caughtUp(ws);
  }
}
