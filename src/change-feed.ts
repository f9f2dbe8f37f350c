import { MongoServerError, type ChangeStream, type ChangeStreamDocument, type Collection, type ResumeToken } from "mongodb";
import * as v from "valibot";
import { backoffDelay, defaultBackoff, sleep, type BackoffPolicy } from "./backoff.ts";
import type { CheckpointStore } from "./checkpoint-store.ts";
import type { FeedHistory, HistoryFloor } from "./feed-history.ts";
import { insertFrame, resyncFrame, type ResyncReason } from "./feed-frames.ts";
import { clusterTimeOf, timestampToBigInt } from "./feed-position.ts";
import type { Logger } from "./logger.ts";
import { StoredPostSchema, toPostView, type StoredPost } from "./post.ts";

export type ChangeFeedOptions = {
  collection: Collection<StoredPost>;
  history: FeedHistory;
  checkpoints: CheckpointStore;
  /** Sends one encoded frame to every subscribed client. */
  broadcast: (frame: string) => void;
  log: Logger;
  backoff?: BackoffPolicy;
  /** How long an idle getMore waits on the server; also how stale an idle stream's clock may get. */
  maxAwaitTimeMS?: number;
};

// Resuming cannot close these gaps: the events in between are gone or the token is unusable.
const UNRECOVERABLE_GAP_CODES = new Set([286 /* ChangeStreamHistoryLost */, 280 /* ChangeStreamFatalError */, 260 /* InvalidResumeToken */]);

const pipeline = [{ $match: { operationType: { $in: ["insert", "invalidate"] } } }];

type PostsChange = ChangeStreamDocument<StoredPost>;
type Waiter = { time: bigint; resolve: (reached: boolean) => void };

/**
 * The single change stream of this server instance. `run` loops until its signal aborts:
 * it turns insert events into frames (history first, then broadcast, in one synchronous
 * step), checkpoints its position, and restarts from the last position with capped,
 * jittered backoff whenever the driver's own resume is not enough.
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

  async run(signal: AbortSignal): Promise<void> {
    const { history, log } = this.options;
    let startAfter: ResumeToken | undefined;
    try {
      const checkpoint = await this.options.checkpoints.load();
      if (checkpoint) {
        // A floor older than the history window would replay events nobody can ask for any more.
        const resumeFrom = history.isTooOld(floorOf(checkpoint.floor)!.time) ? checkpoint.head : checkpoint.floor;
        startAfter = resumeFrom;
        history.reset(floorOf(resumeFrom));
        this.#checkpointedFloor = history.floor?.position;
        log.info("resuming the change stream from the persisted position", { floor: history.floor?.position });
      }
    } catch (error) {
      this.#established.reject(error);
      return;
    }

    let attempt = 0;
    while (!signal.aborted) {
      const stream = this.options.collection.watch<StoredPost, PostsChange>(pipeline, {
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
          if (change?.operationType === "invalidate") {
            startAfter = change._id;
            this.#invalidated(change);
            break;
          }
          if (change) this.#deliver(change);
          if (stream.bufferedCount() === 0) startAfter = this.#batchEnded(stream) ?? startAfter;
          if (!change) this.#caughtUp();
          change = await stream.tryNext();
          attempt = 0; // a getMore went through: the stream is healthy again, so backoff starts over
        }
      } catch (error) {
        if (signal.aborted) break;
        const gap = error instanceof MongoServerError && UNRECOVERABLE_GAP_CODES.has(Number(error.code));
        if (!this.#everEstablished && !gap) {
          this.#established.reject(error);
          return;
        }
        this.#markDown(error);
        if (gap) {
          startAfter = undefined;
          this.#restartFromNow(error);
        } else {
          startAfter = stream.resumeToken ?? startAfter;
        }
        const delayMs = backoffDelay(attempt++, this.options.backoff ?? defaultBackoff);
        log.warn("change stream interrupted; restarting", { error, attempt, delayMs: Math.round(delayMs) });
        await sleep(delayMs, signal);
      } finally {
        signal.removeEventListener("abort", closeStream);
        await stream.close().catch(() => {});
      }
    }
    this.#up = false;
  }

  /** What a restarted server needs: the history floor and how far the stream got. */
  checkpoint(head: ResumeToken | undefined): void {
    const floor = this.options.history.floor;
    if (!floor) return;
    this.#checkpointedFloor = floor.position;
    this.#eventsSinceCheckpoint = 0;
    this.options.checkpoints.save({ floor: { _data: floor.position }, head: head ?? { _data: floor.position } });
  }

  /** The latest head position, for the final checkpoint at shutdown. */
  get head(): ResumeToken | undefined {
    return this.#lastHead;
  }

  /**
   * A stream with no history to continue starts at "now". If its first batch already
   * holds an event, that event becomes the floor: delivered live, but not replayable.
   */
  #startFresh(stream: ChangeStream<StoredPost, PostsChange>, first: PostsChange | null): PostsChange | null {
    const floorToken = first && first.operationType !== "invalidate" ? first._id : stream.resumeToken;
    this.options.history.reset(floorOf(floorToken));
    if (first && first.operationType !== "invalidate") {
      const frame = this.#frameFor(first, tokenData(first._id));
      if (frame) this.options.broadcast(frame);
      return null;
    }
    return first;
  }

  #deliver(change: PostsChange): void {
    const position = tokenData(change._id);
    const frame = this.#frameFor(change, position);
    if (!frame) return;
    const time = timestampToBigInt(change.clusterTime!);
    // History and broadcast in one synchronous step: a socket opening now sees each event exactly once.
    this.options.history.append({ position, time, frame });
    this.options.broadcast(frame);
    this.#eventsSinceCheckpoint++;
    this.#advanceTo(time);
  }

  #frameFor(change: PostsChange, position: string): string | undefined {
    if (change.operationType !== "insert") return undefined;
    const parsed = v.safeParse(StoredPostSchema, change.fullDocument);
    if (!parsed.success) {
      this.options.log.warn("skipped a posts document that does not have the post shape", {
        documentKey: String(change.documentKey._id),
        problems: parsed.issues.map((issue) => `${v.getDotPath(issue) ?? "document"}: ${issue.message}`),
      });
      return undefined;
    }
    return insertFrame(position, toPostView(parsed.output));
  }

  #batchEnded(stream: ChangeStream<StoredPost, PostsChange>): ResumeToken | undefined {
    const head = stream.resumeToken;
    if (!head) return undefined;
    this.#lastHead = head;
    const time = clusterTimeOf(tokenData(head));
    if (time !== undefined) this.#advanceTo(time);
    if (this.#eventsSinceCheckpoint > 0 || this.options.history.floor?.position !== this.#checkpointedFloor) {
      this.checkpoint(head);
    }
    return head;
  }

  #invalidated(change: PostsChange): void {
    this.options.log.warn("the posts collection was dropped or renamed; clients must resync", { operationType: change.operationType });
    this.#tellEveryoneToResync(floorOf(change._id), "collection-invalidated");
    this.checkpoint(change._id);
  }

  #restartFromNow(error: unknown): void {
    this.options.log.error("the change stream cannot resume from its position; restarting from now, clients must resync", { error });
    this.#tellEveryoneToResync(undefined, "history-lost");
  }

  #tellEveryoneToResync(floor: HistoryFloor | undefined, reason: ResyncReason): void {
    this.options.history.reset(floor);
    this.options.broadcast(resyncFrame(reason));
  }

  #markUp(): void {
    this.#up = true;
    this.#lastError = undefined;
    this.options.log.info("change stream established", { position: this.options.history.newestPosition });
    this.#everEstablished = true;
  }

  #caughtUp(): void {
    this.#established.resolve(); // later calls are no-ops
  }

  #markDown(error: unknown): void {
    this.#up = false;
    this.#lastError = error;
  }

  #advanceTo(time: bigint): void {
    if (time <= this.#streamTime) return;
    this.#streamTime = time;
    for (const waiter of this.#waiters) if (waiter.time <= time) waiter.resolve(true);
  }
}

function tokenData(token: ResumeToken): string {
  return (token as { _data: string })._data;
}

function floorOf(token: ResumeToken | undefined): HistoryFloor | undefined {
  if (!token) return undefined;
  const position = tokenData(token);
  return { position, time: clusterTimeOf(position) ?? 0n };
}
