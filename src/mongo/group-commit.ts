import type { StoredPost } from "./stored-post.ts";
import { WriteOutcomeUnknown } from "./write-outcome.ts";

type Pending = { post: StoredPost; signal: AbortSignal; resolve: () => void; reject: (error: unknown) => void };

/**
 * How a batch is written: by the posts store, which knows whether a failed write was sent. It
 * resolves with the server's refusals of single documents, by index in the batch (none: all
 * stored), and throws for the batch as a whole.
 */
export type WriteBatch = (posts: StoredPost[], signal: AbortSignal) => Promise<ReadonlyMap<number, unknown>>;

/**
 * Group commit: the inserts that arrive in the same turn of the event loop go to MongoDB as one
 * `insertMany({ ordered: false })`, and each caller still gets its own result or its own error.
 * A lone insert waits no longer than that turn (`setImmediate` runs once the turn's I/O is handled).
 */
export class GroupCommit {
  #pending: Pending[] = [];

  constructor(
    private readonly write: WriteBatch,
    private readonly onBatch: (size: number) => void = () => {},
  ) {}

  insert(post: StoredPost, signal: AbortSignal): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    if (this.#pending.length === 0) setImmediate(() => void this.#flush());
    this.#pending.push({ post, signal, resolve, reject });
    return promise;
  }

  async #flush(): Promise<void> {
    const batch = this.#pending.filter((item) => {
      if (!item.signal.aborted) return true;
      item.reject(item.signal.reason); // its deadline passed before anything was sent
      return false;
    });
    this.#pending = [];
    if (batch.length === 0) return;
    this.onBatch(batch.length);
    try {
      // The batch gives up when the first of its requests does: their deadlines are a turn apart at most.
      const refused = await this.write(
        batch.map((item) => item.post),
        AbortSignal.any(batch.map((item) => item.signal)),
      );
      for (const [index, item] of batch.entries()) {
        const own = refused.get(index);
        if (own) item.reject(own);
        else item.resolve();
      }
    } catch (error) {
      // One outcome for all: unknown (each with its own id, to look it up) or certainly not written.
      for (const item of batch) {
        item.reject(
          error instanceof WriteOutcomeUnknown ? new WriteOutcomeUnknown(item.post._id.toHexString(), "stored", error.cause) : error,
        );
      }
    }
  }
}
