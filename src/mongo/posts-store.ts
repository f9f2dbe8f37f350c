import {
  MongoServerSelectionError,
  ObjectId,
  type Abortable,
  type ClientSession,
  type Collection,
  type Filter,
  type InsertOneOptions,
  type MongoClient,
  type Timestamp,
} from "mongodb";
import type { PostView } from "../protocol/post-view.ts";
import type { NewPost } from "../protocol/requests.ts";
import { timestampToBigInt } from "./cluster-time.ts";
import { postViewOf, toPostView, type StoredPost } from "./stored-post.ts";
import { WriteOutcomeUnknown } from "./write-outcome.ts";

/** A page of the newest posts and the cluster time of the snapshot it was read at. */
export type PostsPage = { posts: PostView[]; time: bigint /** as many documents as asked for: there may be more */; full: boolean };

/** The posts collection, as the HTTP API reads and writes it. */
export class PostsStore {
  constructor(
    private readonly client: MongoClient,
    private readonly collection: Collection<StoredPost>,
  ) {}

  /**
   * Stores a post under an id chosen here, so a caller can look it up whatever happens. Gives
   * up when `signal` aborts (the request's deadline). Throws `WriteOutcomeUnknown` once the
   * insert may have reached MongoDB without an answer; any other error means it did not.
   */
  async insert(post: NewPost, signal: AbortSignal): Promise<PostView> {
    const stored = { _id: new ObjectId(), ...post, createdAt: new Date() };
    const session = this.client.startSession();
    const numbered = session.serverSession.txnNumber;
    try {
      // `signal` is honoured by every operation (server selection, checkout, the socket), though only reads declare it.
      const options: InsertOneOptions & Abortable = { session, signal };
      await this.collection.insertOne(stored, options);
    } catch (error) {
      if (this.#mayHaveBeenSent(session, numbered, error)) throw new WriteOutcomeUnknown(stored._id.toHexString(), error);
      throw error;
    } finally {
      await session.endSession();
    }
    return toPostView(stored);
  }

  /**
   * Whether a failed insert may have been applied. With retryable writes (the default) the
   * driver numbers a write at the moment it hands it to a connection (the session's txnNumber),
   * so an unchanged number means no attempt was sent: server selection or the connection
   * failed first. The error types cannot tell: a retry whose server selection fails throws a
   * MongoServerSelectionError although the first attempt was sent.
   */
  #mayHaveBeenSent(session: ClientSession, numbered: number, error: unknown): boolean {
    if (this.client.options.retryWrites) return session.serverSession.txnNumber !== numbered;
    return !(error instanceof MongoServerSelectionError); // one attempt only: selecting failed before sending
  }

  /** Newest first, on a snapshot session: the page and its time describe the same instant. */
  async newest(limit: number, before: string | undefined, signal: AbortSignal): Promise<PostsPage> {
    const filter: Filter<StoredPost> = before ? { _id: { $lt: new ObjectId(before) } } : {};
    const session = this.client.startSession({ snapshot: true });
    let documents: unknown[];
    let snapshotTime: Timestamp | undefined;
    try {
      documents = await this.collection.find(filter, { session, signal, sort: { _id: -1 }, limit, batchSize: limit }).toArray();
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
}
