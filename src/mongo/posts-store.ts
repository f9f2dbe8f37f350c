import {
  type Abortable,
  type ClientSession,
  type Collection,
  type Filter,
  type MongoClient,
  MongoBulkWriteError,
  MongoServerError,
  MongoServerSelectionError,
  MongoWriteConcernError,
  ObjectId,
  type Timestamp,
} from "mongodb";
import type { FeedFilter } from "../protocol/filter.ts";
import type { PostView } from "../protocol/post-view.ts";
import { timestampToBigInt } from "./cluster-time.ts";
import { postShapeQuery, postViewOf, type StoredPost, toPostView } from "./stored-post.ts";
import { GroupCommit } from "./group-commit.ts";
import { throughElections } from "./through-elections.ts";
import { perDocumentErrors, type WriteAction, WriteOutcomeUnknown } from "./write-outcome.ts";

/** A page of the newest posts and the cluster time of the snapshot it was read at. */
export type PostsPage = { posts: PostView[]; time: bigint /** as many documents as asked for: there may be more */; full: boolean };

/** What a write runs with: its session (to know whether it was sent) and the request's deadline. */
type WriteOptions = { session: ClientSession } & Abortable;

/**
 * The posts collection, as the HTTP API reads and writes it. Every operation gives up when
 * its `signal` aborts (the request's deadline); a write that may have reached MongoDB without
 * an answer throws `WriteOutcomeUnknown`, and any other error means it was not applied.
 */
export class PostsStore {
  readonly #groupCommit: GroupCommit | undefined;

  /** With `groupCommit`, inserts of one event-loop turn share one `insertMany` (see GroupCommit). */
  constructor(
    private readonly client: MongoClient,
    private readonly collection: Collection<StoredPost>,
    groupCommit?: { onBatch: (size: number) => void },
  ) {
    this.#groupCommit = groupCommit && new GroupCommit((posts, signal) => this.#insertMany(posts, signal), groupCommit.onBatch);
  }

  /** A new post, its id chosen here (before anything is written, so a caller can look it up, and a retry reuse it). */
  static newPost(fields: { author: string; authorId?: string | undefined; content: string }): StoredPost {
    return {
      _id: new ObjectId(),
      author: fields.author,
      ...(fields.authorId === undefined ? {} : { authorId: fields.authorId }),
      content: fields.content,
      createdAt: new Date(),
    };
  }

  /**
   * Inserts a post built by `newPost`, through elections until the deadline (see
   * throughElections); a duplicate `_id` (E11000) means it is already stored.
   */
  async insertStored(post: StoredPost, signal: AbortSignal): Promise<PostView> {
    if (this.#groupCommit) await this.#groupCommit.insert(post, signal);
    else {
      const id = post._id.toHexString();
      await throughElections(() => this.#write(id, "stored", signal, (options) => this.collection.insertOne({ ...post }, options)), signal);
    }
    return toPostView(post);
  }

  /** One unordered batch, through elections: each document stands or falls on its own; resolves with the refusals by index. */
  #insertMany(posts: StoredPost[], signal: AbortSignal): Promise<ReadonlyMap<number, unknown>> {
    return throughElections(async () => {
      const batch = posts.map((post) => ({ ...post }));
      try {
        // The id of an unknown outcome is each post's own; GroupCommit hands it out.
        await this.#write("", "stored", signal, (options) =>
          this.collection.insertMany(batch, { ...options, ordered: false }).catch((error: unknown) => {
            throw unwrapBulkError(error);
          }),
        );
        return new Map();
      } catch (error) {
        const refused = error instanceof MongoBulkWriteError ? refusalsByIndex(error) : undefined;
        if (!refused) throw error;
        return refused;
      }
    }, signal);
  }

  /**
   * Newest first, matching `filter` as the feed does, on a snapshot session: the page and
   * its time describe the same instant.
   */
  async newest(limit: number, before: string | undefined, filter: FeedFilter, signal: AbortSignal): Promise<PostsPage> {
    const query: Filter<StoredPost> = {};
    if (filter.author) query.author = { $in: filter.author };
    if (filter.authorId) query.authorId = { $in: filter.authorId };
    if (before || filter.id) {
      query._id = {
        ...(filter.id ? { $in: filter.id.map((id) => new ObjectId(id)) } : {}),
        ...(before ? { $lt: new ObjectId(before) } : {}),
      };
    }
    const session = this.client.startSession({ snapshot: true });
    let documents: unknown[];
    let snapshotTime: Timestamp | undefined;
    try {
      documents = await this.collection.find(query, { session, signal, sort: { _id: -1 }, limit, batchSize: limit }).toArray();
      // The driver records the read's atClusterTime on snapshot sessions (snapshot reads spec), untyped.
      snapshotTime = (session as unknown as { snapshotTime?: Timestamp }).snapshotTime;
    } finally {
      await session.endSession();
    }
    if (!snapshotTime) throw new Error("MongoDB returned no snapshot time for the read");
    const posts = documents.flatMap((document) => postViewOf(document) ?? []);
    return { posts, time: timestampToBigInt(snapshotTime), full: documents.length === limit };
  }

  async byId(id: string, signal: AbortSignal): Promise<PostView | undefined> {
    return postViewOf(await this.collection.findOne({ _id: new ObjectId(id) }, { signal }));
  }

  /**
   * Sets a post's content and `updatedAt`, only if `authorId` (when given) is its author's, in
   * the same write; the post as stored after, or undefined when no such post was changed.
   */
  async edit(id: string, content: string, authorId: string | undefined, signal: AbortSignal): Promise<PostView | undefined> {
    const after = await this.#write(id, "edited", signal, (options) =>
      this.collection.findOneAndUpdate(
        { _id: new ObjectId(id), ...postShapeQuery, ...(authorId === undefined ? {} : { authorId }) },
        { $set: { content, updatedAt: new Date() } },
        { ...options, returnDocument: "after" },
      ),
    );
    return postViewOf(after);
  }

  /** True when a post was deleted (only if `authorId`, when given, is its author's), false when none was. */
  async remove(id: string, authorId: string | undefined, signal: AbortSignal): Promise<boolean> {
    const { deletedCount } = await this.#write(id, "deleted", signal, (options) =>
      this.collection.deleteOne({ _id: new ObjectId(id), ...postShapeQuery, ...(authorId === undefined ? {} : { authorId }) }, options),
    );
    return deletedCount === 1;
  }

  /** Runs one write on its own session, and tells an unknown outcome from a write that was never sent. */
  async #write<T>(id: string, action: WriteAction, signal: AbortSignal, run: (options: WriteOptions) => Promise<T>): Promise<T> {
    const session = this.client.startSession();
    const numbered = session.serverSession.txnNumber;
    try {
      // `signal` is honoured by every operation (server selection, checkout, the socket), though only reads declare it.
      return await run({ session, signal });
    } catch (error) {
      if (error instanceof WriteOutcomeUnknown) throw error;
      if (this.#mayHaveBeenSent(session, numbered, error)) throw new WriteOutcomeUnknown(id, action, error);
      throw error;
    } finally {
      await session.endSession();
    }
  }

  /**
   * Whether a failed write may have been applied. With retryable writes (the default) the
   * driver numbers a write at the moment it hands it to a connection (the session's txnNumber),
   * so an unchanged number means no attempt was sent: server selection or the connection
   * failed first. The error types cannot tell: a retry whose server selection fails throws a
   * MongoServerSelectionError although the first attempt was sent.
   */
  #mayHaveBeenSent(session: ClientSession, numbered: number, error: unknown): boolean {
    // The server's own refusal (a duplicate key, a validation error) is an answer: not applied.
    if (error instanceof MongoServerError && !(error instanceof MongoWriteConcernError) && !error.hasErrorLabel("RetryableWriteError")) {
      return false;
    }
    if (this.client.options.retryWrites) return session.serverSession.txnNumber !== numbered;
    return !(error instanceof MongoServerSelectionError); // one attempt only: selecting failed before sending
  }
}

/** Each document's own refusal in an unordered insertMany, as the MongoServerError an insertOne would have thrown. */
function refusalsByIndex(error: MongoBulkWriteError): Map<number, MongoServerError> | undefined {
  const errors = perDocumentErrors(error);
  if (!errors) return undefined;
  return new Map(
    errors.map((writeError) => {
      const message = writeError.errmsg ?? "write error";
      return [writeError.index, new MongoServerError({ message, code: writeError.code, errmsg: message })];
    }),
  );
}

/**
 * What an insertMany's failure means. Per-document write errors are the server's answers, kept
 * as they are. Anything else arrives wrapped in a MongoBulkWriteError: a driver error (a lost
 * connection, a failed selection), unwrapped so it is judged like any other; or a write concern
 * error, after which the documents may or may not stay stored.
 */
function unwrapBulkError(error: unknown): unknown {
  if (!(error instanceof MongoBulkWriteError)) return error;
  if (perDocumentErrors(error)) return error;
  if (error.errorResponse instanceof Error) return error.errorResponse;
  return new WriteOutcomeUnknown("", "stored", error);
}
