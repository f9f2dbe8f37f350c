import type { FeedFilter } from "../protocol/filter.ts";
import type { PostChange, RoutingKeys, Side } from "./feed-event.ts";

/** The frame a change becomes for one filter. */
export type FrameKind = "insert" | "update" | "delete" | "enter" | "leave";

/** A filter with its value lists as sets, for matching many events against it. */
export type CompiledFilter = {
  author?: ReadonlySet<string>;
  authorId?: ReadonlySet<string>;
  id?: ReadonlySet<string>;
  types?: ReadonlySet<string>;
};

export function compileFilter(filter: FeedFilter): CompiledFilter {
  const compiled: { author?: Set<string>; authorId?: Set<string>; id?: Set<string>; types?: Set<string> } = {};
  if (filter.author) compiled.author = new Set(filter.author);
  if (filter.authorId) compiled.authorId = new Set(filter.authorId);
  if (filter.id) compiled.id = new Set(filter.id);
  if (filter.types) compiled.types = new Set(filter.types);
  return compiled;
}

export function matches(keys: RoutingKeys, filter: CompiledFilter): boolean {
  return (
    (!filter.author || filter.author.has(keys.author)) &&
    (!filter.authorId || (keys.authorId !== undefined && filter.authorId.has(keys.authorId))) &&
    (!filter.id || filter.id.has(keys.id))
  );
}

/** Whether the post was in the filter's view on one side: `maybe` when MongoDB gave no image. */
function inView(side: Side<RoutingKeys>, id: string, filter: CompiledFilter): boolean | "maybe" {
  if (side === "absent") return false;
  if (side === "unknown") return !filter.id || filter.id.has(id) ? "maybe" : false;
  return matches(side, filter);
}

/**
 * The frame a change becomes for a filter, or none. The map rule (insert/update/enter put
 * the post, delete/leave remove it) keeps a client's view equal to the filtered list:
 * an update that makes a post match is `enter`, one that makes it stop matching `leave`.
 * Where MongoDB gave no pre-image, a post that may have been in the view is told to leave
 * (or updated, if it matches now): removing what is not there, or putting what is, is harmless.
 */
export function frameKindFor(change: PostChange, filter: CompiledFilter): FrameKind | undefined {
  if (filter.types && !filter.types.has(change.operation)) return undefined;
  const was = inView(change.before, change.id, filter);
  const is = change.after !== "absent" && matches(change.after.keys, filter);
  switch (change.operation) {
    case "insert":
      return is ? "insert" : undefined;
    case "delete":
      return was === false ? undefined : "delete";
    case "update":
      if (is) return was === false ? "enter" : "update";
      return was === false ? undefined : "leave";
  }
}
