import { MongoServerError, type ChangeStream, type Collection, type ReadPreferenceMode, type ResumeToken } from "mongodb";
import type { ImageMode } from "../mongo/posts-collection.ts";
import type { StoredPost } from "../mongo/stored-post.ts";
import type { Observations } from "../observability/observations.ts";
import { backoffDelay, defaultBackoff, sleep, type BackoffPolicy } from "../protocol/backoff.ts";
import type { CheckpointStore } from "./checkpoint-store.ts";
import type { Fanout } from "./fanout.ts";
import { committedAt, feedWatch, toFeedEvent, tokenData, type FeedEvent, type ImageSource, type PostsChange } from "./feed-event.ts";
import type { HistoryFloor, HistoryView } from "./history.ts";
import { clusterTimeOf } from "./position.ts";
import { AnswerWatchdog } from "./answer-watchdog.ts";

export type ChangeFeedOptions = {
  collection: Collection<StoredPost>;
  /** Read only: the fan-out owns the history (it appends, and restarts it at a floor). */
  history: HistoryView;
  checkpoints: CheckpointStore;
  /** Gets every change, for the filters it concerns. */
  fanout: Fanout;
  /**
   * Readies the collection (pre- and post-images) before the first stream and after an
   * invalidation (a recreated collection has lost its options); throws when MongoDB is unreachable.
   */
  prepare: () => Promise<ImageMode>;
  observations: Observations;
  /** Where the stream reads (FEED_READ_PREFERENCE): a secondary mode keeps it off the primary. */
  readPreference?: ReadPreferenceMode;
  backoff?: BackoffPolicy;
  /** How long an idle getMore waits on the server; also how stale an idle stream's clock may get. */
  maxAwaitTimeMS?: number;
  /**
   * A stream whose next answer takes longer than this is replaced by a new one from the same
   * position (default 3 s, twelve idle getMores). The driver's own resume can sit out a whole
   * server selection timeout: after a lost primary it first kills the old cursor on the member
   * that is gone, waiting for that member to come back.
   */
  stuckAfterMs?: number;
  /**
   * How often, at most, the position is persisted while events flow (default 1 s; always at
   * stop and after an invalidation). A floor saved a moment ago is older than the current
   * one, so a restart from it replays a little more history, never less.
   */
  checkpointIntervalMs?: number;
};

// Resuming cannot close these gaps: the events in between are gone or the token is unusable.
const UNRECOVERABLE_GAP_CODES = new Set([
  286 /* ChangeStreamHistoryLost */, 280 /* ChangeStreamFatalError */, 260 /* InvalidResumeToken */,
]);

type Stream = ChangeStream<StoredPost, PostsChange>;
type Waiter = { time: bigint; resolve: (reached: boolean) => void };

/**
 * The single change stream of this server instance. `run` loops until its signal aborts:
 * it turns change events into feed events for the fan-out (history first, then publish, in
 * one synchronous step), checkpoints its position, restarts from the last position with capped, jittered
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
  #checkpointedAt = Number.NEGATIVE_INFINITY;
  #checkpointedFloor: string | undefined;
  #lastHead: ResumeToken | undefined;
  #source: ImageSource | undefined;
  #progressedAt = performance.now();
  /** A new primary was elected while the stream reads from the primary: it moves there after its batch. */
  #primaryMoved = false;

  readonly #watchdog: AnswerWatchdog;

  constructor(private readonly options: ChangeFeedOptions) {
    this.#established.promise.catch(() => {}); // observed by whoever awaits `established`
    // Once a new primary is known, an answer still missing after two idle getMores is not coming.
    this.#watchdog = new AnswerWatchdog({ stuckAfterMs: options.stuckAfterMs ?? 3_000, graceMs: 2 * (options.maxAwaitTimeMS ?? 250) });
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

  /**
   * A new primary was elected. A cursor stays on the member that opened it (mongod 4.2+ keeps reads
   * going through a step-down), so a stream meant to read from the primary would go on reading from
   * the old one, now a secondary that may lag or stop replicating while it still answers every
   * getMore (nothing for StreamStuck to see). That stream is replaced, from its position, by one on
   * the new primary.
   */
  primaryElected(): void {
    const mode = this.options.readPreference ?? "primary";
    if (mode === "primary" || mode === "primaryPreferred") this.#primaryMoved = true;
    this.#watchdog.primaryElected();
  }

  /** Resolves true once every event up to `time` has been seen, false after `timeoutMs`. */
  waitForTime(time: bigint, timeoutMs: number): Promise<boolean> {
    if (this.#streamTime >= time) return Promise.resolve(true);
    const { promise, resolve } = Promise.withResolvers<boolean>();
    const waiter: Waiter = {
      time,
      resolve: (reached) => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        resolve(reached);
      },
    };
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
    const savedFloor = floorOf(checkpoint.floor);
    const resumeFrom = savedFloor && !history.isTooOld(savedFloor.time) ? checkpoint.floor : checkpoint.head;
    this.options.fanout.startHistoryAt(floorOf(resumeFrom));
    this.#checkpointedFloor = history.floor?.position;
    this.options.observations.emit({ type: "stream-resuming", floor: history.floor?.position });
    return resumeFrom;
  }

  /** False when the first stream could not start (`established` rejected). */
  async #loop(resumeFrom: ResumeToken | undefined, signal: AbortSignal): Promise<boolean> {
    const { history } = this.options;
    let startAfter = resumeFrom;
    let attempt = 0;
    let prepared = false;
    while (!signal.aborted) {
      let stream: Stream | undefined;
      const closeStream = () => void stream?.close().catch(() => {});
      signal.addEventListener("abort", closeStream, { once: true });
      try {
        if (!prepared || this.#source === undefined) this.#source = this.#imageSource(await this.options.prepare());
        prepared = true;
        const source = this.#source;
        const { pipeline, options } = feedWatch(source);
        this.#primaryMoved = false; // this stream selects the primary there is now
        stream = this.options.collection.watch<StoredPost, PostsChange>(pipeline, {
          ...options,
          ...(startAfter ? { startAfter } : {}), // an undefined key would reach the server as null
          maxAwaitTimeMS: this.options.maxAwaitTimeMS ?? 250,
          readPreference: this.options.readPreference ?? "primary",
        });
        // The first tryNext sends the aggregate: after it the server has fixed where the stream starts.
        const stopEarly = history.floor ? undefined : this.#establishOnEmptyFirstBatch(stream);
        let change = await this.#next(stream);
        stopEarly?.();
        if (!history.floor) change = this.#startFresh(stream, change, source);
        if (!this.#up) this.#markUp();
        while (!signal.aborted) {
          if (change) {
            this.#observeRead(change);
            const event = toFeedEvent(change, source);
            if (event.kind === "invalidate") {
              startAfter = change._id;
              prepared = false;
              this.#invalidated(event);
              break;
            }
            this.#deliver(event);
          }
          const ready = this.options.fanout.ready(); // between events, never within one
          if (ready) await ready;
          if (stream.bufferedCount() === 0) startAfter = this.#batchEnded(stream) ?? startAfter;
          if (!change) this.#established.resolve(); // caught up; later calls are no-ops
          // Between batches, so the stream on the new primary starts exactly where this one ended.
          if (this.#primaryMoved && stream.bufferedCount() === 0) break;
          change = await this.#next(stream);
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
          this.options.observations.emit({ type: "stream-resync", reason: "history-lost", error });
          this.#tellEveryoneToResync(undefined, "history-lost");
        } else {
          startAfter = stream?.resumeToken ?? startAfter;
        }
        const delayMs = backoffDelay(attempt++, this.options.backoff ?? defaultBackoff);
        this.options.observations.emit({ type: "stream-down", error, attempt, delayMs: Math.round(delayMs) });
        await sleep(delayMs, signal);
      } finally {
        signal.removeEventListener("abort", closeStream);
        // Closing kills the server's cursor, which waits for its member: on a restart it is not waited for.
        if (signal.aborted) await stream?.close().catch(() => {});
        else closeStream();
      }
    }
    return true;
  }

  /** The stream's next change, or StreamStuck when it is late (see AnswerWatchdog). */
  #next(stream: Stream): Promise<PostsChange | null> {
    // Only a getMore can be stuck: a change already in the driver's buffer is handed over at once (and
    // watching each of those would cost a timer per event). Before the first stream is up, startup's own
    // timeouts decide (a slow first aggregate is not a stuck stream).
    const watched = this.#everEstablished && stream.bufferedCount() === 0;
    const next = stream.tryNext();
    return watched ? this.#watchdog.watch(next) : next;
  }

  /**
   * A fresh start (no history to rebuild) is established as soon as the aggregate returns an
   * empty first batch: nothing older can follow, and the first tryNext would otherwise sit out
   * a whole getMore wait (maxAwaitTimeMS) before the server may listen. The driver announces
   * that batch's resume token; a token announced for an event instead is followed at once by
   * tryNext returning it, so the check waits until the turn's callbacks have run. Returns the
   * function that stops watching.
   */
  #establishOnEmptyFirstBatch(stream: Stream): () => void {
    let pending = true;
    const onToken = () =>
      setImmediate(() => {
        const token = stream.resumeToken;
        if (!pending || this.options.history.floor || !token || stream.bufferedCount() > 0) return;
        this.options.fanout.startHistoryAt(floorOf(token));
        const time = clusterTimeOf(tokenData(token));
        if (time !== undefined) this.#advanceTo(time);
        this.#markUp();
        this.#established.resolve();
      });
    stream.once("resumeTokenChanged", onToken);
    return () => {
      pending = false;
      stream.off("resumeTokenChanged", onToken);
    };
  }

  /**
   * A stream with no history to continue starts at "now". If its first batch already
   * holds an event, that event becomes the floor: delivered live, but not replayable.
   */
  #startFresh(stream: Stream, first: PostsChange | null, source: ImageSource): PostsChange | null {
    if (first) this.#observeRead(first);
    const event = first && toFeedEvent(first, source);
    if (!event || event.kind === "invalidate") {
      this.options.fanout.startHistoryAt(floorOf(stream.resumeToken));
      return first;
    }
    if (event.kind === "change") this.options.fanout.deliverAsFloor(event);
    else {
      this.options.fanout.startHistoryAt({ position: event.position, time: event.time });
      this.#deliver(event);
    }
    return null;
  }

  #deliver(event: Exclude<FeedEvent, { kind: "invalidate" }>): void {
    switch (event.kind) {
      case "skip":
        this.options.observations.emit({ type: "document-skipped", documentKey: event.documentKey, problems: event.problems });
        return;
      case "images-missing":
        // What the post became is unknowable: nobody's view can be kept right, so everyone reloads.
        this.options.observations.emit({ type: "post-image-missing", position: event.position, id: event.id });
        this.#tellEveryoneToResync({ position: event.position, time: event.time }, "history-lost");
        break;
      case "change":
        // History and publish in one synchronous step: a socket opening now sees each event exactly once.
        this.options.fanout.deliver(event);
        this.#eventsSinceCheckpoint++;
        break;
    }
    this.#advanceTo(event.time);
  }

  #observeRead(change: PostsChange): void {
    const at = committedAt(change);
    this.options.observations.emit({
      type: "change-event",
      operation: change.operationType,
      lagMs: at === undefined ? undefined : Date.now() - at,
    });
  }

  #imageSource(mode: ImageMode): ImageSource {
    if (mode.images) return "as-of-change";
    if (this.#source !== "lookup") this.options.observations.emit({ type: "images-unavailable", error: mode.error });
    return "lookup";
  }

  #batchEnded(stream: Stream): ResumeToken | undefined {
    const head = stream.resumeToken;
    if (!head) return undefined;
    this.#lastHead = head;
    const time = clusterTimeOf(tokenData(head));
    if (time !== undefined) this.#advanceTo(time);
    const changed = this.#eventsSinceCheckpoint > 0 || this.options.history.floor?.position !== this.#checkpointedFloor;
    if (changed && performance.now() - this.#checkpointedAt >= (this.options.checkpointIntervalMs ?? 1_000)) this.#checkpoint(head);
    return head;
  }

  #invalidated(event: Extract<FeedEvent, { kind: "invalidate" }>): void {
    this.options.observations.emit({ type: "stream-resync", reason: "collection-invalidated" });
    this.#tellEveryoneToResync({ position: event.position, time: clusterTimeOf(event.position) ?? 0n }, "collection-invalidated");
    this.#checkpoint({ _data: event.position });
  }

  #tellEveryoneToResync(floor: HistoryFloor | undefined, reason: "history-lost" | "collection-invalidated"): void {
    this.options.fanout.resyncAll(reason, floor);
  }

  /** What a restarted server needs: the history floor and how far the stream got. */
  #checkpoint(head: ResumeToken | undefined): void {
    const floor = this.options.history.floor;
    if (!floor) return;
    this.#checkpointedFloor = floor.position;
    this.#eventsSinceCheckpoint = 0;
    this.#checkpointedAt = performance.now();
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
