import { ObjectId, type Collection, type Filter, type MongoClient, type Timestamp } from "mongodb";
import type { FeedFilter } from "../protocol/filter.ts";
import type { PostView } from "../protocol/post-view.ts";
import { timestampToBigInt } from "./cluster-time.ts";
import { postShapeQuery, postViewOf, toPostView, type StoredPost } from "./stored-post.ts";

/** A page of the newest posts and the cluster time of the snapshot it was read at. */
export type PostsPage = { posts: PostView[]; time: bigint /** as many documents as asked for: there may be more */; full: boolean };

/** The posts collection, as the HTTP API reads and writes it. */
export class PostsStore {
  constructor(
    private readonly client: MongoClient,
    private readonly collection: Collection<StoredPost>,
  ) {}

  /** A new post, its id chosen here (before anything is written, so a retry can reuse it). */
  static newPost(fields: { author: string; authorId?: string | undefined; content: string }): StoredPost {
    return {
      _id: new ObjectId(),
      author: fields.author,
      ...(fields.authorId === undefined ? {} : { authorId: fields.authorId }),
      content: fields.content,
      createdAt: new Date(),
    };
  }

  /** Inserts a post built by `newPost`; a duplicate `_id` (E11000) means it is already stored. */
  async insertStored(post: StoredPost): Promise<PostView> {
    await this.collection.insertOne({ ...post });
    return toPostView(post);
  }

  /**
   * Newest first, matching `filter` as the feed does, on a snapshot session: the page and
   * its time describe the same instant.
   */
  async newest(limit: number, before: string | undefined, filter: FeedFilter): Promise<PostsPage> {
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
      documents = await this.collection.find(query, { session, sort: { _id: -1 }, limit, batchSize: limit }).toArray();
      // The driver records the read's atClusterTime on snapshot sessions (snapshot reads spec), untyped.
      snapshotTime = (session as unknown as { snapshotTime?: Timestamp }).snapshotTime;
    } finally {
      await session.endSession();
    }
    if (!snapshotTime) throw new Error("MongoDB returned no snapshot time for the read");
    const posts = documents.flatMap((document) => postViewOf(document) ?? []);
    return { posts, time: timestampToBigInt(snapshotTime), full: documents.length === limit };
  }

  async byId(id: string): Promise<PostView | undefined> {
    return postViewOf(await this.collection.findOne({ _id: new ObjectId(id) }));
  }

  /**
   * Sets a post's content and `updatedAt`, only if `authorId` (when given) is its author's, in
   * the same write; the post as stored after, or undefined when no such post was changed.
   */
  async edit(id: string, content: string, authorId?: string): Promise<PostView | undefined> {
    const after = await this.collection.findOneAndUpdate(
      { _id: new ObjectId(id), ...postShapeQuery, ...(authorId === undefined ? {} : { authorId }) },
      { $set: { content, updatedAt: new Date() } },
      { returnDocument: "after" },
    );
    return postViewOf(after);
  }

  /** True when a post was deleted (only if `authorId`, when given, is its author's), false when none was. */
  async remove(id: string, authorId?: string): Promise<boolean> {
    const { deletedCount } = await this.collection.deleteOne({
      _id: new ObjectId(id),
      ...postShapeQuery,
      ...(authorId === undefined ? {} : { authorId }),
    });
    return deletedCount === 1;
  }
}
