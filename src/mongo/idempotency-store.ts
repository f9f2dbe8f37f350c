import { createHash } from "node:crypto";
import type { Abortable, Collection, InsertOneOptions } from "mongodb";
import type { PostView } from "../protocol/post-view.ts";
import type { PostsStore } from "./posts-store.ts";
import { toPostView, type StoredPost } from "./stored-post.ts";
import { isDuplicateKey } from "./write-outcome.ts";

/** How long a key is remembered: a retry within this applies nothing twice. */
export const IDEMPOTENCY_WINDOW_SECONDS = 24 * 60 * 60;

/**
 * One Idempotency-Key of one identity. The post (with its id) is chosen before anything is
 * written and kept here, so any retry, on any instance, completes the same post.
 */
export type IdempotencyRecord = {
  /** Derived from the identity and the key: a unique index MongoDB enforces across instances. */
  _id: string;
  /** The request the key was first used with. */
  requestHash: string;
  post: StoredPost;
  /** Removed by a TTL index IDEMPOTENCY_WINDOW_SECONDS after this. */
  createdAt: Date;
  /** Set once the post is known to be stored: a retry then never stores it again (even if it was deleted since). */
  stored?: true;
};

export type IdempotentOutcome = { kind: "created"; view: PostView } | { kind: "replayed"; view: PostView } | { kind: "conflict" };

/**
 * Creates posts at most once per (identity, Idempotency-Key), enforced by MongoDB so it holds
 * across instances and restarts. The key document is inserted first; whoever loses that race
 * (a retry, or the same request sent twice at once) reads it: another request → conflict;
 * the same → replay the stored post, or store it with the chosen id if the first attempt never
 * got that far (a duplicate `_id` then means someone just did: replay).
 */
export class IdempotencyStore {
  constructor(
    private readonly keys: Collection<IdempotencyRecord>,
    private readonly posts: PostsStore,
  ) {}

  /** The TTL index that forgets keys after the window (mongod's TTL monitor runs about once a minute). */
  async ensureIndexes(): Promise<void> {
    await this.keys.createIndex({ createdAt: 1 }, { name: "forget_after_window", expireAfterSeconds: IDEMPOTENCY_WINDOW_SECONDS });
  }

  /** The hash that tells a retry (same request) from a reuse of the key (another request). */
  static requestHash(request: unknown): string {
    return createHash("sha256").update(JSON.stringify(request)).digest("base64url");
  }

  async create(scope: string, key: string, requestHash: string, post: StoredPost, signal: AbortSignal): Promise<IdempotentOutcome> {
    const _id = createHash("sha256")
      .update(JSON.stringify([scope, key]))
      .digest("base64url");
    // A key that expires between our insert and our read is simply tried again.
    for (let attempt = 0; ; attempt++) {
      try {
        // `signal` is honoured by every operation, though only reads declare it.
        await this.keys.insertOne({ _id, requestHash, post, createdAt: new Date() }, { signal } as InsertOneOptions & Abortable);
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        const existing = await this.keys.findOne({ _id }, { signal });
        if (!existing) {
          if (attempt < 2) continue;
          throw error;
        }
        if (existing.requestHash !== requestHash) return { kind: "conflict" };
        return this.#complete(existing, signal);
      }
      return this.#complete({ _id, requestHash, post, createdAt: new Date() }, signal);
    }
  }

  /** Stores the record's post unless it already is: `created` when this call stored it, `replayed` when an earlier one had. */
  async #complete(record: IdempotencyRecord, signal: AbortSignal): Promise<IdempotentOutcome> {
    if (record.stored)
      return { kind: "replayed", view: (await this.posts.byId(record.post._id.toHexString(), signal)) ?? toPostView(record.post) };
    try {
      await this.posts.insertStored(record.post, signal);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      return { kind: "replayed", view: (await this.posts.byId(record.post._id.toHexString(), signal)) ?? toPostView(record.post) };
    }
    // Best effort: without it a later retry finds the post by its id and replays it anyway.
    await this.keys.updateOne({ _id: record._id }, { $set: { stored: true } }).catch(() => {});
    return { kind: "created", view: toPostView(record.post) };
  }
}
