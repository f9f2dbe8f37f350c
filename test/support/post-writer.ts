import type { Collection } from "mongodb";
import { Changes, waitUntil } from "./wait-until.ts";

/**
 * Writes posts one after another straight into MongoDB (as another instance or a script
 * would), so commit order is the order of `ids`. Progress is awaitable, never polled.
 */
export class PostWriter {
  readonly ids: string[] = [];
  readonly done: Promise<string[]>;
  #progress = new Changes();
  #stopped = false;
  #finished = false;

  constructor(collection: Collection, count: number, content: (n: number) => string = (n) => `post ${n}`) {
    this.done = (async () => {
      for (let n = 0; n < count && !this.#stopped; n++) {
        const { insertedId } = await collection.insertOne({ author: "writer", content: content(n), createdAt: new Date() });
        this.ids.push(insertedId.toHexString());
        this.#progress.changed();
      }
      this.#finished = true;
      this.#progress.changed();
      return this.ids;
    })();
  }

  /** Resolves once at least `count` posts are committed; rejects if the writer stops short of them. */
  async written(count: number, timeoutMs?: number): Promise<void> {
    await waitUntil(
      this.#progress,
      `${count} posts written`,
      () => {
        if (this.ids.length >= count) return true;
        if (this.#finished) throw new Error(`the writer stopped after ${this.ids.length} posts, short of ${count}`);
      },
      { timeoutMs, seen: () => `${this.ids.length} written` },
    );
  }

  stop(): void {
    this.#stopped = true;
  }
}

/** The post ids of a client's insert frames, in the order received. */
export function postIds(frames: readonly { type: string; post?: { id: string } }[]): string[] {
  return frames.flatMap((frame) => (frame.type === "insert" && frame.post ? [frame.post.id] : []));
}
