import type { FeedFilter } from "../protocol/filter.ts";
import type { PostChange, RoutingKeys } from "./feed-event.ts";
import { compileFilter, type CompiledFilter } from "./frame-kind.ts";
import { filterTopic } from "./topics.ts";

/** One distinct filter that at least one socket holds, and its topic. */
export type Subscription = { readonly topic: string; readonly canonical: FeedFilter; readonly filter: CompiledFilter; sockets: number };

/**
 * The distinct filters of the open sockets, indexed so that an event finds the filters it
 * may concern without a loop over sockets or over unrelated filters. Each filter is indexed
 * under its most selective key (its ids, else its authorIds, else its authors, else as open): a filter can only
 * match a post whose id (or authorId, or author) it lists.
 */
export class FilterIndex {
  readonly #byTopic = new Map<string, Subscription>();
  readonly #byId = new Map<string, Set<Subscription>>();
  readonly #byAuthorId = new Map<string, Set<Subscription>>();
  readonly #byAuthor = new Map<string, Set<Subscription>>();
  /** Filters with neither ids nor authors (no filter, or types only). */
  readonly #open = new Set<Subscription>();
  /** Filters without ids: the ones a post of unknown author may have been in. */
  readonly #withoutIds = new Set<Subscription>();

  constructor(private readonly collectionName: string) {}

  /** How many distinct filters are held. */
  get size(): number {
    return this.#byTopic.size;
  }

  topics(): IterableIterator<string> {
    return this.#byTopic.keys();
  }

  /** Adds a socket holding `filter` (canonical); returns its subscription. */
  join(filter: FeedFilter): Subscription {
    const topic = filterTopic(this.collectionName, filter);
    let subscription = this.#byTopic.get(topic);
    if (!subscription) {
      subscription = { topic, canonical: filter, filter: compileFilter(filter), sockets: 0 };
      this.#byTopic.set(topic, subscription);
      for (const [set] of this.#placesOf(subscription)) set.add(subscription);
    }
    subscription.sockets++;
    return subscription;
  }

  /** Removes a socket; the filter goes once no socket holds it. */
  leave(subscription: Subscription): void {
    if (--subscription.sockets > 0 || this.#byTopic.get(subscription.topic) !== subscription) return;
    this.#byTopic.delete(subscription.topic);
    for (const [set, drop] of this.#placesOf(subscription)) {
      set.delete(subscription);
      if (set.size === 0) drop?.();
    }
  }

  /** Every filter `change` may concern (a superset: the caller decides per filter). */
  candidates(change: PostChange): Set<Subscription> {
    const found = new Set(this.#open);
    const add = (keys: RoutingKeys) => {
      for (const entry of this.#byId.get(keys.id) ?? []) found.add(entry);
      for (const entry of this.#byAuthor.get(keys.author) ?? []) found.add(entry);
      if (keys.authorId !== undefined) for (const entry of this.#byAuthorId.get(keys.authorId) ?? []) found.add(entry);
    };
    if (change.after !== "absent") add(change.after.keys);
    if (change.before === "unknown") {
      for (const entry of this.#byId.get(change.id) ?? []) found.add(entry);
      for (const entry of this.#withoutIds) found.add(entry);
    } else if (change.before !== "absent") {
      add(change.before);
    }
    return found;
  }

  /** The sets that hold `subscription`, each with how to drop it from its map once empty. */
  *#placesOf({ canonical }: Subscription): Generator<[Set<Subscription>, (() => void)?]> {
    if (!canonical.id) yield [this.#withoutIds];
    const [map, keys] = canonical.id
      ? [this.#byId, canonical.id]
      : canonical.authorId
        ? [this.#byAuthorId, canonical.authorId]
        : canonical.author
          ? [this.#byAuthor, canonical.author]
          : [undefined, []];
    if (!map) {
      yield [this.#open];
      return;
    }
    for (const key of keys) yield [bucket(map, key), () => map.delete(key)];
  }
}

function bucket(map: Map<string, Set<Subscription>>, key: string): Set<Subscription> {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  return set;
}
