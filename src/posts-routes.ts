import { ObjectId, type Collection, type Filter, type MongoClient, type Timestamp } from "mongodb";
import * as v from "valibot";
import type { ChangeFeed } from "./change-feed.ts";
import { snapshotPosition, timestampToBigInt } from "./feed-position.ts";
import { NewPostSchema, StoredPostSchema, toPostView, type StoredPost } from "./post.ts";
import { HttpProblem } from "./problem.ts";
import { readJsonBody } from "./read-json-body.ts";
import type { Handler } from "./router.ts";

/** Bodies past this are refused while they stream in. */
export const MAX_BODY_BYTES = 64 * 1024;

export type PostsRoutesOptions = { client: MongoClient; posts: Collection<StoredPost>; feed: ChangeFeed; waitMs: number };

const POST_ID = /^[0-9a-f]{24}$/i;

const ListQuerySchema = v.strictObject(
  {
    limit: v.optional(
      v.pipe(v.string(), v.regex(/^\d+$/, "limit must be a whole number"), v.transform(Number), v.minValue(1, "limit must be at least 1"), v.maxValue(100, "limit must be at most 100")),
      "20",
    ),
    before: v.optional(v.pipe(v.string(), v.regex(POST_ID, "before must be a post id (24 hex characters)"))),
  },
  (issue) => `unknown query parameter ${JSON.stringify(issue.path?.at(-1)?.key)}`,
);

export function postsRoutes({ client, posts, feed, waitMs }: PostsRoutesOptions) {
  /** POST /posts: validate, insert, answer 201. The change stream, not this handler, broadcasts. */
  const createPost: Handler = async ({ request }) => {
    const parsed = v.safeParse(NewPostSchema, await readJsonBody(request, MAX_BODY_BYTES));
    if (!parsed.success) throw validationProblem("The post is not valid", parsed.issues);
    const post = { _id: new ObjectId(), ...parsed.output, createdAt: new Date() };
    await posts.insertOne(post);
    const view = toPostView(post);
    return Response.json(view, { status: 201, headers: { Location: `/posts/${view.id}` } });
  };

  /**
   * GET /posts: newest first, with the position of the read snapshot, so that
   * connecting with `since=<position>` yields exactly the posts committed after it.
   */
  const listPosts: Handler = async ({ url }) => {
    const parsed = v.safeParse(ListQuerySchema, Object.fromEntries(url.searchParams));
    if (!parsed.success) throw validationProblem("The query is not valid", parsed.issues);
    const { limit, before } = parsed.output;
    const filter: Filter<StoredPost> = before ? { _id: { $lt: new ObjectId(before) } } : {};

    const session = client.startSession({ snapshot: true });
    let documents: unknown[];
    let snapshotTime: Timestamp | undefined;
    try {
      documents = await posts.find(filter, { session, sort: { _id: -1 }, limit, batchSize: limit }).toArray();
      // The driver records the read's atClusterTime on snapshot sessions (snapshot reads spec), untyped.
      snapshotTime = (session as unknown as { snapshotTime?: Timestamp }).snapshotTime;
    } finally {
      await session.endSession();
    }
    if (!snapshotTime) throw new Error("MongoDB returned no snapshot time for the read");
    const time = timestampToBigInt(snapshotTime);
    // The position is only honest once this instance's stream has seen everything up to the snapshot.
    if (!(await feed.waitForTime(time, waitMs))) {
      throw new HttpProblem(503, "The change feed is catching up with MongoDB; retry shortly", { headers: { "Retry-After": "1" } });
    }
    const views = documents.flatMap((document) => {
      const post = v.safeParse(StoredPostSchema, document);
      return post.success ? [toPostView(post.output)] : [];
    });
    const last = views.at(-1);
    const next = documents.length === limit && last ? `/posts?limit=${limit}&before=${last.id}` : null;
    return Response.json({ posts: views, position: snapshotPosition(time), next });
  };

  /** GET /posts/:id, the target of the Location header. */
  const getPost: Handler = async ({ params: [id] }) => {
    const document = id && POST_ID.test(id) ? await posts.findOne({ _id: new ObjectId(id) }) : null;
    const post = v.safeParse(StoredPostSchema, document);
    if (!post.success) throw new HttpProblem(404, `No post with id ${JSON.stringify(id)}`);
    return Response.json(toPostView(post.output));
  };

  return { createPost, listPosts, getPost };
}

function validationProblem(detail: string, issues: readonly v.BaseIssue<unknown>[]): HttpProblem {
  return new HttpProblem(400, detail, {
    issues: issues.map((issue) => ({ path: v.getDotPath(issue) ?? "", message: issue.message })),
  });
}
