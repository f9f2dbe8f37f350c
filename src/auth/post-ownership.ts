import type { Identity } from "./identity.ts";

/**
 * Whether the caller may edit or delete a stored post: anyone while auth is off; with auth on,
 * only its author (the same `sub` as the post's `authorId`). A post without an `authorId`
 * (stored while auth was off, or by a script) belongs to nobody, so nobody may change it.
 * For PATCH/DELETE: `if (!mayChangePost(auth, identity, stored)) throw new HttpProblem(403, …)`.
 */
export function mayChangePost(authOn: boolean, identity: Identity | undefined, post: { authorId?: string | undefined }): boolean {
  if (!authOn) return true;
  return identity !== undefined && post.authorId !== undefined && post.authorId === identity.sub;
}
