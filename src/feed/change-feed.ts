import { MongoServerError, type ChangeStream, type Collection, type ResumeToken } from "mongodb";
import type { StoredPost } from "../mongo/stored-post.ts";
import type { Observations } from "../observations.ts";
import type { ResyncReason } from "../protocol/frames.ts";
import { backoffDelay, defaultBackoff, sleep, type BackoffPolicy } from "./backoff.ts";
import type { CheckpointStore } from "./checkpoint-store.ts";
import { feedPipeline, toFeedEvent, tokenData, type FeedEvent, type PostsChange } from "./feed-event.ts";
import { insertFrame, resyncFrame } from "./frames.ts";
import type { FeedHistory, HistoryFloor } from "./history.ts";
import { clusterTimeOf } from "./position.ts";
import type { Publisher } from "./publisher.ts";

export type ChangeFeedOptions = {
  collection: Collection<StoredPost>;
  history: FeedHistory;
  checkpoints: CheckpointStore;
  /** Gets every frame, for every socket subscribed to `topic`. */
  publisher: Publisher;
  topic: string;
  observations: Observations;
  backoff?: BackoffPolicy;
  /** How long an idle getMore waits on the server; also how stale an idle stream's clock may get. */
  maxAwaitTimeMS?: number;
};

// Resuming cannot close these gaps: the events in between are gone or the token is unusable.
const UNRECOVERABLE_GAP_CODES = new Set([
  286 /* ChangeStreamHistoryLost */, 280 /* ChangeStreamFatalError */, 260 /* InvalidResumeToken */,
]);

type Stream = ChangeStream<StoredPost, PostsChange>;
type Waiter = { time: bigint; resolve: (reached: boolean) => void };

/**
 * The single change stream of this server instance. `run` loops until its signal aborts:
 * it turns change events into frames (history first, then publish, in one synchronous
 * step), checkpoints its position, restarts from the last position with capped, jittered
 * backoff whenever the driver's own resume is not enough, and checkpoints once more when
 * it stops.
 */
export class ChangeFeed {
  #up = false;
  #lastError: unknown;
  #streamTime = 0n;
  #waiters = new Set<Waiter>();
  #established = Promise.withResolvers<void>();
  #everEstablished = false;
  #eventsSinceCheckpoint = 0;
  #checkpointedFloor: string | undefined;
  #lastHead: ResumeToken | undefined;
  #progressedAt = performance.now();

  constructor(private readonly options: ChangeFeedOptions) {
    this.#established.promise.catch(() => {}); // observed by whoever awaits `established`
  }

  /**
   * Resolves once the first stream has caught up (an empty batch: nothing older is left to
   * replay), so a server that listens only after it never shows old posts as new; rejects
   * if the stream could not start.
   */
  get established(): Promise<void> {
    return this.#established.promise;
  }

  get isUp(): boolean {
    return this.#up;
  }

  get lastError(): unknown {
    return this.#lastError;
  }

  /**
   * When (performance.now()) the stream last heard from MongoDB: an idle getMore returns
   * within maxAwaitTimeMS, so a stream that has not for much longer is stalled.
   */
  get progressedAt(): number {
    return this.#progressedAt;
  }

  /** The cluster time up to which every event has been seen. */
  get streamTime(): bigint {
    return this.#streamTime;
  }

  /** Resolves true once every event up to `time` has been seen, false after `timeoutMs`. */
  waitForTime(time: bigint, timeoutMs: number): Promise<boolean> {
    if (this.#streamTime >= time) return Promise.resolve(true);
    const { promise, resolve } = Promise.withResolvers<boolean>();
    const waiter: Waiter = { time, resolve: (reached) => (clearTimeout(timer), this.#waiters.delete(waiter), resolve(reached)) };
    const timer = setTimeout(() => waiter.resolve(false), timeoutMs);
    this.#waiters.add(waiter);
    return promise;
  }

  /** Runs the stream until `signal` aborts, then persists the position reached. */
  async run(signal: AbortSignal): Promise<void> {
    let startAfter: ResumeToken | undefined;
    try {
      startAfter = await this.#resumePoint();
    } catch (error) {
      this.#established.reject(error);
      return;
    }
    if (!(await this.#loop(startAfter, signal))) return;
    this.#up = false;
    // The position reached, so a restarted server (or another instance) serves every `since` a client saw.
    this.#checkpoint(this.#lastHead);
    await this.options.checkpoints.flush();
  }

  /** Where the persisted checkpoint says to start, with the history rebuilt from its floor. */
  async #resumePoint(): Promise<ResumeToken | undefined> {
    const { history } = this.options;
    const checkpoint = await this.options.checkpoints.load();
    if (!checkpoint) return undefined;
    // A floor older than the history window would replay events nobody can ask for any more.
    const resumeFrom = history.isTooOld(floorOf(checkpoint.floor)!.time) ? checkpoint.head : checkpoint.floor;
    history.reset(floorOf(resumeFrom));
    this.#checkpointedFloor = history.floor?.position;
    this.options.observations.emit({ type: "stream-resuming", floor: history.floor?.position });
    return resumeFrom;
  }

  /** False when the first stream could not start (`established` rejected). */
  async #loop(resumeFrom: ResumeToken | undefined, signal: AbortSignal): Promise<boolean> {
    const { history } = this.options;
    let startAfter = resumeFrom;
    let attempt = 0;
    while (!signal.aborted) {
      const stream: Stream = this.options.collection.watch<StoredPost, PostsChange>(feedPipeline, {
        ...(startAfter ? { startAfter } : {}), // an undefined key would reach the server as null
        maxAwaitTimeMS: this.options.maxAwaitTimeMS ?? 250,
      });
      const closeStream = () => void stream.close().catch(() => {});
      signal.addEventListener("abort", closeStream, { once: true });
      try {
        // The first tryNext sends the aggregate: after it the server has fixed where the stream starts.
        let change = await stream.tryNext();
        if (!history.floor) change = this.#startFresh(stream, change);
        this.#markUp();
        while (!signal.aborted) {
          const event = change && toFeedEvent(change);
          if (event?.kind === "invalidate") {
            startAfter = change!._id;
            this.#invalidated(event);
            break;
          }
          if (event) this.#deliver(event);
          const ready = this.options.publisher.ready?.(); // between events, never within one
          if (ready) await ready;
          if (stream.bufferedCount() === 0) startAfter = this.#batchEnded(stream) ?? startAfter;
          if (!change) this.#established.resolve(); // caught up; later calls are no-ops
          change = await stream.tryNext();
          this.#progressedAt = performance.now();
          attempt = 0; // a getMore went through: the stream is healthy again, so backoff starts over
        }
      } catch (error) {
        if (signal.aborted) break;
        const gap = error instanceof MongoServerError && UNRECOVERABLE_GAP_CODES.has(Number(error.code));
        if (!this.#everEstablished && !gap) {
          this.#established.reject(error);
          return false;
        }
        this.#up = false;
        this.#lastError = error;
        if (gap) {
          startAfter = undefined;
          this.#tellEveryoneToResync(undefined, "history-lost", error);
        } else {
          startAfter = stream.resumeToken ?? startAfter;
        }
        const delayMs = backoffDelay(attempt++, this.options.backoff ?? defaultBackoff);
        this.options.observations.emit({ type: "stream-down", error, attempt, delayMs: Math.round(delayMs) });
        await sleep(delayMs, signal);
      } finally {
        signal.removeEventListener("abort", closeStream);
        await stream.close().catch(() => {});
      }
    }
    return true;
  }

  /**
   * A stream with no history to continue starts at "now". If its first batch already
   * holds an event, that event becomes the floor: delivered live, but not replayable.
   */
  #startFresh(stream: Stream, first: PostsChange | null): PostsChange | null {
    const event = first && toFeedEvent(first);
    if (!event || event.kind === "invalidate") {
      this.options.history.reset(floorOf(stream.resumeToken));
      return first;
    }
    this.options.history.reset({ position: event.position, time: event.time });
    const frame = this.#frameFor(event);
    if (frame) this.options.publisher.publish(this.options.topic, frame);
    return null;
  }

  #deliver(event: FeedEvent): void {
    const frame = this.#frameFor(event);
    if (!frame || event.kind !== "insert") return;
    // History and publish in one synchronous step: a socket opening now sees each event exactly once.
    this.options.history.append({ position: event.position, time: event.time, kind: event.kind, keys: event.keys, frame });
    this.options.publisher.publish(this.options.topic, frame);
    this.#eventsSinceCheckpoint++;
    this.#advanceTo(event.time);
  }

  #frameFor(event: FeedEvent): string | undefined {
    if (event.kind === "skip") {
      this.options.observations.emit({ type: "document-skipped", documentKey: event.documentKey, problems: event.problems });
      return undefined;
    }
    return event.kind === "insert" ? insertFrame(event.position, event.post) : undefined;
  }

  #batchEnded(stream: Stream): ResumeToken | undefined {
    const head = stream.resumeToken;
    if (!head) return undefined;
    this.#lastHead = head;
    const time = clusterTimeOf(tokenData(head));
    if (time !== undefined) this.#advanceTo(time);
    if (this.#eventsSinceCheckpoint > 0 || this.options.history.floor?.position !== this.#checkpointedFloor) {
      this.#checkpoint(head);
    }
    return head;
  }

  #invalidated(event: Extract<FeedEvent, { kind: "invalidate" }>): void {
    this.#tellEveryoneToResync({ position: event.position, time: clusterTimeOf(event.position) ?? 0n }, "collection-invalidated");
    this.#checkpoint({ _data: event.position });
  }

  #tellEveryoneToResync(floor: HistoryFloor | undefined, reason: "history-lost" | "collection-invalidated", error?: unknown): void {
    this.options.observations.emit({ type: "stream-resync", reason, ...(error === undefined ? {} : { error }) });
    this.options.history.reset(floor);
    this.options.publisher.publish(this.options.topic, resyncFrame(reason satisfies ResyncReason));
  }

  /** What a restarted server needs: the history floor and how far the stream got. */
  #checkpoint(head: ResumeToken | undefined): void {
    const floor = this.options.history.floor;
    if (!floor) return;
    this.#checkpointedFloor = floor.position;
    this.#eventsSinceCheckpoint = 0;
    this.options.checkpoints.save({ floor: { _data: floor.position }, head: head ?? { _data: floor.position } });
  }

  #markUp(): void {
    this.#progressedAt = performance.now();
    this.#up = true;
    this.#lastError = undefined;
    this.options.observations.emit({ type: "stream-up", position: this.options.history.newestPosition });
    this.#everEstablished = true;
  }

  #advanceTo(time: bigint): void {
    if (time <= this.#streamTime) return;
    this.#streamTime = time;
    for (const waiter of this.#waiters) if (waiter.time <= time) waiter.resolve(true);
  }
}

function floorOf(token: ResumeToken | undefined): HistoryFloor | undefined {
  if (!token) return undefined;
  const position = tokenData(token);
  return { position, time: clusterTimeOf(position) ?? 0n };
}
