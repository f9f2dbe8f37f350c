import * as v from "valibot";
import type { ChangeFeed } from "../../feed/change-feed.ts";
import { snapshotPosition } from "../../feed/position.ts";
import type { PostsStore } from "../../mongo/posts-store.ts";
import { PositionSchema } from "../../protocol/frames.ts";
import { PostViewSchema } from "../../protocol/post-view.ts";
import { canonicalFilter, type FeedFilter, filterQuery } from "../../protocol/filter.ts";
import { ListQuerySchema, NewPostSchema, PostEditSchema, PostPathSchema } from "../../protocol/requests.ts";
import { HttpProblem } from "../problem.ts";
import { defineRoute, type Route } from "../route.ts";

export type PostsRoutesOptions = { posts: PostsStore; feed: ChangeFeed; waitMs: number };

const PostListSchema = v.pipe(
  v.object({ posts: v.array(PostViewSchema), position: PositionSchema, next: v.nullable(v.string()) }),
  v.title("PostList"),
);

const unavailable = "MongoDB is unavailable (with Retry-After)";

export function postsRoutes({ posts, feed, waitMs }: PostsRoutesOptions): Route[] {
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
      503: `${unavailable}, or this instance's change stream has not caught up within the connect timeout`,
    },
    async handle({ query: { limit, before, ...parameters } }) {
      const filter = canonicalFilter(parameters);
      const page = await posts.newest(limit, before, filter);
      // The position is only honest once this instance's stream has seen everything up to the snapshot.
      if (!(await feed.waitForTime(page.time, waitMs))) {
        throw new HttpProblem(503, "The change feed is catching up with MongoDB; retry shortly", { headers: { "Retry-After": "1" } });
      }
      const last = page.posts.at(-1);
      const next = page.full && last ? `/posts?${nextQuery(limit, last.id, filter)}` : null;
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
      503: unavailable,
    },
    async handle({ body }) {
      const view = await posts.insert(body);
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
      const view = await posts.byId(id);
      if (!view) throw new HttpProblem(404, `No post with id ${JSON.stringify(id)}`);
      return Response.json(view);
    },
  });

  /** PATCH /posts/:id: a new content. The change stream delivers it as an update (or enter/leave). */
  const editPost = defineRoute({
    method: "PATCH",
    path: "/posts/:id",
    summary: "Edit a post's content",
    params: PostPathSchema,
    body: PostEditSchema,
    responses: {
      200: { description: "the post as stored after the edit, with updatedAt", schema: PostViewSchema },
      400: "malformed JSON, a body that is not an object, or schema failures",
      404: "unknown post id",
      413: "body over 64 KiB",
      415: "a content type other than application/json",
      503: unavailable,
    },
    async handle({ params: { id }, body: { content } }) {
      const view = await posts.edit(id, content);
      if (!view) throw new HttpProblem(404, `No post with id ${JSON.stringify(id)}`);
      return Response.json(view);
    },
  });

  /** DELETE /posts/:id. The change stream delivers it as a delete (or leave). */
  const deletePost = defineRoute({
    method: "DELETE",
    path: "/posts/:id",
    summary: "Delete a post",
    params: PostPathSchema,
    responses: { 204: { description: "deleted" }, 404: "unknown post id (or already deleted)", 503: unavailable },
    async handle({ params: { id } }) {
      if (!(await posts.remove(id))) throw new HttpProblem(404, `No post with id ${JSON.stringify(id)}`);
      return new Response(null, { status: 204 });
    },
  });

  return [listPosts, createPost, getPost, editPost, deletePost];
}

/** The query of the next page: the same filter, older posts. */
function nextQuery(limit: number, before: string, filter: FeedFilter): string {
  return filterQuery(filter, new URLSearchParams({ limit: String(limit), before })).toString();
}
