import type { Collection, ResumeToken } from "mongodb";
import type { Observations } from "../observability/observations.ts";

/**
 * Where a restarted server resumes: `floor` rebuilds the replay history clients rely on,
 * `head` is how far the stream had got (the driver's resume token, postBatchResumeToken aware).
 */
export type Checkpoint = { floor: ResumeToken; head: ResumeToken };

export type FeedStateDocument = Checkpoint & { _id: string; updatedAt: Date };

/**
 * Persists checkpoints in MongoDB with at most one write in flight: saves that arrive
 * meanwhile coalesce into the next write, so a busy feed costs one small write per batch.
 */
export class CheckpointStore {
  #pending: Checkpoint | undefined;
  #writing: Promise<void> | undefined;

  constructor(
    private readonly collection: Collection<FeedStateDocument>,
    private readonly feedName: string,
    private readonly observations: Observations,
  ) {}

  async load(): Promise<Checkpoint | undefined> {
    const state = await this.collection.findOne({ _id: this.feedName });
    return state ? { floor: state.floor, head: state.head } : undefined;
  }

  save(checkpoint: Checkpoint): void {
    this.#pending = checkpoint;
    this.#writing ??= this.#drain();
  }

  /** Resolves once the latest saved checkpoint is written (or failed, which is observed). */
  async flush(): Promise<void> {
    this.#writing ??= this.#drain();
    await this.#writing;
  }

  async #drain(): Promise<void> {
    while (this.#pending) {
      const checkpoint = this.#pending;
      this.#pending = undefined;
      try {
        await this.collection.updateOne({ _id: this.feedName }, { $set: { ...checkpoint, updatedAt: new Date() } }, { upsert: true });
      } catch (error) {
        this.#pending ??= checkpoint; // keep it for the next save or flush
        this.observations.emit({ type: "checkpoint-failed", error });
        break;
      }
    }
    this.#writing = undefined;
  }
}
