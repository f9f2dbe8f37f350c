import type { Collection } from "mongodb";

/**
 * Writes posts one after another straight into MongoDB (as another instance or a script
 * would), so commit order is the order of `ids`. Progress is awaitable, never polled.
 */
export class PostWriter {
  readonly ids: string[] = [];
  readonly done: Promise<string[]>;
  #progress = new Set<() => void>();
  #stopped = false;

  constructor(collection: Collection, count: number, content: (n: number) => string = (n) => `post ${n}`) {
    this.done = (async () => {
      for (let n = 0; n < count && !this.#stopped; n++) {
        const { insertedId } = await collection.insertOne({ author: "writer", content: content(n), createdAt: new Date() });
        this.ids.push(insertedId.toHexString());
        for (const check of this.#progress) check();
      }
      return this.ids;
    })();
  }

  /** Resolves once at least `count` posts are committed. */
  written(count: number): Promise<void> {
    if (this.ids.length >= count) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    const check = () => {
      if (this.ids.length >= count) {
        this.#progress.delete(check);
        resolve();
      }
    };
    this.#progress.add(check);
    void this.done.then(check);
    return promise;
  }

  stop(): void {
    this.#stopped = true;
  }
}

/** The post ids of a client's insert frames, in the order received. */
export function postIds(frames: readonly { type: string; post?: { id: string } }[]): string[] {
  return frames.flatMap((frame) => (frame.type === "insert" && frame.post ? [frame.post.id] : []));
}
