import { MongoServerError, type Db } from "mongodb";

/** How the feed reads documents as of a change: from MongoDB's pre- and post-images, or by lookup (weaker). */
export type ImageMode = { images: true } | { images: false; error: unknown };

const NAMESPACE_EXISTS = 48;

/**
 * Makes sure the posts collection exists with `changeStreamPreAndPostImages` on, so that
 * update events carry the post as of that change and deletes can be routed by who wrote
 * the post. If MongoDB refuses (for example missing privileges), the feed runs degraded;
 * any other failure is thrown.
 */
export async function preparePostsCollection(db: Db, name: string): Promise<ImageMode> {
  try {
    await db.createCollection(name).catch((error: unknown) => {
      if (!(error instanceof MongoServerError && error.code === NAMESPACE_EXISTS)) throw error;
    });
    await db.command({ collMod: name, changeStreamPreAndPostImages: { enabled: true } });
    return { images: true };
  } catch (error) {
    // Only a refusal means "run degraded"; an unreachable MongoDB is the caller's to handle.
    if (error instanceof MongoServerError) return { images: false, error };
    throw error;
  }
}
