import * as v from "valibot";
import { AuthorSchema } from "../protocol/requests.ts";
import type { Identity } from "./identity.ts";

/**
 * The author of a post written with a token: its display name claim, held to the same rules
 * as a body's `author` (a token cannot smuggle in what a body may not). A name that breaks
 * them is refused, never silently replaced by the next claim.
 */
export function authorOf(identity: Identity): { author: string } | { problem: string } {
  const { claim, value } = identity.displayName;
  const parsed = v.safeParse(AuthorSchema, value);
  if (parsed.success) return { author: parsed.output };
  return { problem: `your token's ${claim} claim cannot be an author name: ${parsed.issues[0].message}` };
}
