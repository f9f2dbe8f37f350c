import * as v from "valibot";
import type { Identity } from "../../auth/identity.ts";
import { mayChangePost } from "../../auth/post-ownership.ts";
import { authorOf } from "../../auth/token-author.ts";
import type { ChangeFeed } from "../../feed/change-feed.ts";
import { snapshotPosition } from "../../feed/position.ts";
import { IDEMPOTENCY_WINDOW_SECONDS, IdempotencyStore } from "../../mongo/idempotency-store.ts";
import { PostsStore } from "../../mongo/posts-store.ts";
import { PositionSchema } from "../../protocol/frames.ts";
import { canonicalFilter, type FeedFilter, filterQuery } from "../../protocol/filter.ts";
import { type PostView, PostViewSchema } from "../../protocol/post-view.ts";
import { ListQuerySchema, NewPostSchema, PostEditSchema, PostPathSchema, TokenPostSchema } from "../../protocol/requests.ts";
import { Deadline } from "../../mongo/deadline.ts";
import { HttpProblem } from "../problem.ts";
import { defineRoute, type Route } from "../route.ts";

export type PostsRoutesOptions = {
  posts: PostsStore;
  idempotency: IdempotencyStore;
  feed: ChangeFeed;
  /** One deadline per request (REQUEST_TIMEOUT_MS), shared by everything it waits on. */
  requestTimeoutMs: number;
  /** With auth on the author comes from the token, and a body may not name one. */
  authOn: boolean;
};

/** RFC-draft Idempotency-Key values this server accepts: 1–128 visible ASCII characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

const PostListSchema = v.pipe(
  v.object({ posts: v.array(PostViewSchema), position: PositionSchema, next: v.nullable(v.string()) }),
  v.title("PostList"),
);

const unavailable = "MongoDB is unavailable, or did not answer within REQUEST_TIMEOUT_MS (with Retry-After)";

export function postsRoutes({ posts, idempotency, feed, requestTimeoutMs, authOn }: PostsRoutesOptions): Route[] {
  const deadline = () => new Deadline(requestTimeoutMs);
  /**
   * GET /posts: newest first, with the position of the read snapshot, so that
   * connecting with `since=<position>` yields exactly the posts committed after it.
   */
  const listPosts = defineRoute({
    method: "GET",
    path: "/posts",
    summary: "The newest posts, with the position to stream from",
    access: "read",
    query: ListQuerySchema,
    responses: {
      200: { description: "a page of posts, newest first", schema: PostListSchema },
      400: "bad query parameters",
      401: "a token is needed (auth on, reads not public) and is missing or invalid",
      503: `${unavailable}, or this instance's change stream has not caught up within REQUEST_TIMEOUT_MS`,
    },
    async handle({ query: { limit, before, ...parameters } }) {
      const filter = canonicalFilter(parameters);
      using within = deadline();
      const page = await posts.newest(limit, before, filter, within.signal);
      // The position is only honest once this instance's stream has seen everything up to the snapshot.
      if (!(await feed.waitForTime(page.time, within.remainingMs))) {
        throw new HttpProblem(503, "The change feed is catching up with MongoDB; retry shortly", { headers: { "Retry-After": "1" } });
      }
      const last = page.posts.at(-1);
      const next = page.full && last ? `/posts?${nextQuery(limit, last.id, filter)}` : null;
      return Response.json({ posts: page.posts, position: snapshotPosition(page.time), next });
    },
  });

  /**
   * POST /posts: validate, insert, answer 201. The change stream, not this handler, broadcasts.
   * With an Idempotency-Key the post is created at most once per key and identity (24 h).
   */
  const createPost = defineRoute({
    method: "POST",
    path: "/posts",
    summary: "Store a post; the feed delivers it to every client",
    access: "write",
    body: authOn ? TokenPostSchema : NewPostSchema,
    responses: {
      201: {
        description: "the stored post (a retry with the same Idempotency-Key and body: the original one, with Idempotent-Replayed: true)",
        schema: PostViewSchema,
        headers: { Location: "/posts/<id>", "Idempotent-Replayed": "true, on a replay" },
      },
      400: "malformed JSON, invalid UTF-8, an empty body, a body that is not an object, schema failures, an author in the body with auth on, or a malformed Idempotency-Key",
      401: "auth is on and the bearer token is missing or invalid (with WWW-Authenticate)",
      403: "the token's name cannot be an author name",
      413: "body over 64 KiB",
      415: "a content type other than application/json",
      422: "the Idempotency-Key was already used with a different request",
      429: "over the write rate limit (with Retry-After and RateLimit headers)",
      503: `${unavailable}, the post was certainly not stored; or the token cannot be checked right now`,
      504: "the insert reached MongoDB (or may have) without an answer: the post may or may not be stored; check GET /posts/<id> (id in the body), or retry with the same Idempotency-Key",
    },
    async handle({ request, body, identity, clientAddress }) {
      const key = request.headers.get("idempotency-key");
      if (key !== null && !IDEMPOTENCY_KEY.test(key)) {
        throw new HttpProblem(400, "Idempotency-Key must be 1 to 128 visible ASCII characters");
      }
      let author: string;
      if (identity) {
        const fromToken = authorOf(identity);
        if ("problem" in fromToken) throw new HttpProblem(403, fromToken.problem);
        author = fromToken.author;
      } else {
        author = (body as v.InferOutput<typeof NewPostSchema>).author;
      }
      const post = PostsStore.newPost({ author, authorId: identity?.sub, content: body.content });
      using within = deadline();
      const { signal } = within;
      if (key === null) return created(await posts.insertStored(post, signal));

      const scope = identity ? `sub:${identity.sub}` : `address:${clientAddress()}`;
      const requestHash = IdempotencyStore.requestHash({ method: "POST", path: "/posts", body });
      const outcome = await idempotency.create(scope, key, requestHash, post, signal);
      if (outcome.kind === "conflict") {
        throw new HttpProblem(
          422,
          `This Idempotency-Key was used with a different request in the last ${IDEMPOTENCY_WINDOW_SECONDS / 3600} hours; use a new key`,
        );
      }
      return created(outcome.view, outcome.kind === "replayed");
    },
  });

  /** GET /posts/:id, the target of the Location header. */
  const getPost = defineRoute({
    method: "GET",
    path: "/posts/:id",
    summary: "One post",
    access: "read",
    params: PostPathSchema,
    responses: { 200: { description: "the post", schema: PostViewSchema }, 404: "unknown post id", 503: unavailable },
    async handle({ params: { id } }) {
      using within = deadline();
      const view = await posts.byId(id, within.signal);
      if (!view) throw new HttpProblem(404, `No post with id ${JSON.stringify(id)}`);
      return Response.json(view);
    },
  });

  /** PATCH /posts/:id: a new content. The change stream delivers it as an update (or enter/leave). */
  const editPost = defineRoute({
    method: "PATCH",
    path: "/posts/:id",
    summary: "Edit a post's content (auth on: only its author)",
    access: "write",
    params: PostPathSchema,
    body: PostEditSchema,
    responses: {
      200: { description: "the post as stored after the edit, with updatedAt", schema: PostViewSchema },
      400: "malformed JSON, a body that is not an object, or schema failures",
      401: "auth on: a missing or invalid token",
      403: "auth on: the post is someone else's",
      404: "unknown post id",
      413: "body over 64 KiB",
      415: "a content type other than application/json",
      429: "too many writes (with Retry-After)",
      503: unavailable,
      504: "the edit reached MongoDB (or may have) without an answer: check GET /posts/<id>",
    },
    async handle({ params: { id }, body: { content }, identity }) {
      using within = deadline();
      const { signal } = within;
      const view = await posts.edit(id, content, ownerOf(identity), signal);
      if (!view) throw await refusal(id, identity, "edit", signal);
      return Response.json(view);
    },
  });

  /** DELETE /posts/:id. The change stream delivers it as a delete (or leave). */
  const deletePost = defineRoute({
    method: "DELETE",
    path: "/posts/:id",
    summary: "Delete a post (auth on: only its author)",
    access: "write",
    params: PostPathSchema,
    responses: {
      204: { description: "deleted" },
      401: "auth on: a missing or invalid token",
      403: "auth on: the post is someone else's",
      404: "unknown post id (or already deleted)",
      429: "too many writes (with Retry-After)",
      503: unavailable,
      504: "the delete reached MongoDB (or may have) without an answer: check GET /posts/<id>",
    },
    async handle({ params: { id }, identity }) {
      using within = deadline();
      const { signal } = within;
      if (!(await posts.remove(id, ownerOf(identity), signal))) throw await refusal(id, identity, "delete", signal);
      return new Response(null, { status: 204 });
    },
  });

  /** With auth on, a change applies only to the caller's own posts (checked in the same write). */
  const ownerOf = (identity: Identity | undefined) => (authOn ? (identity?.sub ?? "") : undefined);

  /** Why an edit or delete changed nothing: the post is someone else's (403), or there is none (404). */
  const refusal = async (id: string, identity: Identity | undefined, action: string, signal: AbortSignal) => {
    const post = await posts.byId(id, signal);
    if (post && !mayChangePost(authOn, identity, post)) return new HttpProblem(403, `Only the post's author may ${action} it`);
    return new HttpProblem(404, `No post with id ${JSON.stringify(id)}`);
  };

  return [listPosts, createPost, getPost, editPost, deletePost];
}

/** The query of the next page: the same filter, older posts. */
function nextQuery(limit: number, before: string, filter: FeedFilter): string {
  return filterQuery(filter, new URLSearchParams({ limit: String(limit), before })).toString();
}

function created(view: PostView, replayed = false): Response {
  const headers: Record<string, string> = { Location: `/posts/${view.id}` };
  if (replayed) headers["Idempotent-Replayed"] = "true";
  return Response.json(view, { status: 201, headers });
}
