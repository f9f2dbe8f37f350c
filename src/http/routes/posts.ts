import * as v from "valibot";
import type { ChangeFeed } from "../../feed/change-feed.ts";
import { snapshotPosition } from "../../feed/position.ts";
import type { PostsStore } from "../../mongo/posts-store.ts";
import { PositionSchema } from "../../protocol/frames.ts";
import { PostViewSchema } from "../../protocol/post-view.ts";
import { ListQuerySchema, NewPostSchema, PostPathSchema } from "../../protocol/requests.ts";
import { Deadline } from "../../deadline.ts";
import { HttpProblem } from "../problem.ts";
import { defineRoute, type Route } from "../route.ts";

export type PostsRoutesOptions = { posts: PostsStore; feed: ChangeFeed; requestTimeoutMs: number };

const PostListSchema = v.pipe(
  v.object({ posts: v.array(PostViewSchema), position: PositionSchema, next: v.nullable(v.string()) }),
  v.title("PostList"),
);

const unavailable = "MongoDB is unavailable, or did not answer within REQUEST_TIMEOUT_MS (with Retry-After)";

export function postsRoutes({ posts, feed, requestTimeoutMs }: PostsRoutesOptions): Route[] {
  /**
   * GET /posts: newest first, with the position of the read snapshot, so that
   * connecting with `since=<position>` yields exactly the posts committed after it.
   */
  const listPosts = defineRoute({
    method: "GET",
    path: "/posts",
    summary: "The newest posts, with the position to stream from",
    query: ListQuerySchema,
    responses: {
      200: { description: "a page of posts, newest first", schema: PostListSchema },
      400: "bad query parameters",
      503: `${unavailable}, or this instance's change stream has not caught up within REQUEST_TIMEOUT_MS`,
    },
    async handle({ query: { limit, before } }) {
      const deadline = new Deadline(requestTimeoutMs);
      const page = await posts.newest(limit, before, deadline.signal);
      // The position is only honest once this instance's stream has seen everything up to the snapshot.
      if (!(await feed.waitForTime(page.time, deadline.remainingMs))) {
        throw new HttpProblem(503, "The change feed is catching up with MongoDB; retry shortly", { headers: { "Retry-After": "1" } });
      }
      const last = page.posts.at(-1);
      const next = page.full && last ? `/posts?limit=${limit}&before=${last.id}` : null;
      return Response.json({ posts: page.posts, position: snapshotPosition(page.time), next });
    },
  });

  /** POST /posts: validate, insert, answer 201. The change stream, not this handler, broadcasts. */
  const createPost = defineRoute({
    method: "POST",
    path: "/posts",
    summary: "Store a post; the feed delivers it to every client",
    body: NewPostSchema,
    responses: {
      201: { description: "the stored post", schema: PostViewSchema, headers: { Location: "/posts/<id>" } },
      400: "malformed JSON, invalid UTF-8, an empty body, a body that is not an object, or schema failures",
      413: "body over 64 KiB",
      415: "a content type other than application/json",
      503: `${unavailable}; the post was certainly not stored`,
      504: "the insert reached MongoDB (or may have) without an answer: the post may or may not be stored; check GET /posts/<id> (id in the body)",
    },
    async handle({ body }) {
      const view = await posts.insert(body, new Deadline(requestTimeoutMs).signal);
      return Response.json(view, { status: 201, headers: { Location: `/posts/${view.id}` } });
    },
  });

  /** GET /posts/:id, the target of the Location header. */
  const getPost = defineRoute({
    method: "GET",
    path: "/posts/:id",
    summary: "One post",
    params: PostPathSchema,
    responses: { 200: { description: "the post", schema: PostViewSchema }, 404: "unknown post id", 503: unavailable },
    async handle({ params: { id } }) {
      const view = await posts.byId(id, new Deadline(requestTimeoutMs).signal);
      if (!view) throw new HttpProblem(404, `No post with id ${JSON.stringify(id)}`);
      return Response.json(view);
    },
  });

  return [listPosts, createPost, getPost];
}
