/** Server-side cursors (find/aggregate results and change streams), addressable from any connection. */
import { Long, type Document } from "bson";
import { CommandError } from "./errors.ts";

/** One batch handed to getMore; `exhausted` closes the cursor (id 0 in the reply). */
export interface Batch {
  docs: Document[];
  exhausted: boolean;
  postBatchResumeToken?: Document;
}

export interface GetMoreOptions {
  batchSize?: number;
  maxTimeMS?: number;
  /** The requesting connection's signal: a wait ends when it closes. */
  signal?: AbortSignal;
}

/** A cursor kept by the registry between getMores. */
export interface Cursor {
  id: Long;
  ns: string;
  readonly isChangeStream: boolean;
  next(options: GetMoreOptions): Batch | Promise<Batch>;
  /** Called when killed (killCursors, drop, shutdown): must wake a waiting getMore. */
  kill(): void;
  /** A getMore is waiting on it right now (never reaped while busy). */
  readonly busy?: boolean;
}

/** Like mongod's cursorTimeoutMillis: idle cursors are killed after 10 minutes. */
export const CURSOR_IDLE_TIMEOUT_MS = 10 * 60 * 1000;

/** Documents already computed for a find or aggregate, served in batches. */
export class ArrayCursor implements Cursor {
  id = Long.ZERO;
  readonly isChangeStream = false;
  #position = 0;

  constructor(
    public ns: string,
    readonly docs: Document[],
  ) {}

  next({ batchSize }: GetMoreOptions): Batch {
    const size = batchSize && batchSize > 0 ? batchSize : this.docs.length;
    const docs = this.docs.slice(this.#position, this.#position + size);
    this.#position += docs.length;
    return { docs, exhausted: this.#position >= this.docs.length };
  }

  kill(): void {}
}

/** All open cursors by id. */
export class CursorRegistry {
  readonly #cursors = new Map<string, Cursor>();
  readonly #lastUsed = new Map<string, number>();
  #nextId = BigInt(Math.floor(Math.random() * 2 ** 40)) * 1000n + 1n;

  /** Assigns an id and keeps the cursor for getMore. */
  register(cursor: Cursor): Long {
    cursor.id = Long.fromBigInt(this.#nextId++);
    this.#cursors.set(cursor.id.toString(), cursor);
    this.#lastUsed.set(cursor.id.toString(), Date.now());
    return cursor.id;
  }

  /** The cursor, or CursorNotFound (43) like a real server. */
  get(id: Long | number): Cursor {
    const cursor = this.#cursors.get(id.toString());
    if (!cursor) throw new CommandError(43, `cursor id ${id.toString()} not found`);
    this.#lastUsed.set(id.toString(), Date.now());
    return cursor;
  }

  /** Whether the id names an open change stream cursor. */
  isChangeStream(id: unknown): boolean {
    return (typeof id === "object" || typeof id === "number") && this.#cursors.get(String(id))?.isChangeStream === true;
  }

  /** How many change stream cursors are open: which member serves a client's stream (tests ask). */
  get changeStreams(): number {
    let open = 0;
    for (const cursor of this.#cursors.values()) if (cursor.isChangeStream) open++;
    return open;
  }

  /** Forgets a cursor that is exhausted. */
  forget(cursor: Cursor): void {
    this.#cursors.delete(cursor.id.toString());
    this.#lastUsed.delete(cursor.id.toString());
  }

  /** Kills a cursor; returns whether it existed. */
  kill(id: Long | number): boolean {
    const key = id.toString();
    const cursor = this.#cursors.get(key);
    if (!cursor) return false;
    this.#cursors.delete(key);
    this.#lastUsed.delete(key);
    cursor.kill();
    return true;
  }

  /** Kills cursors idle for longer than `timeoutMS` (not those a getMore is waiting on). */
  reapIdle(now: number, timeoutMS = CURSOR_IDLE_TIMEOUT_MS): void {
    for (const [key, usedAt] of this.#lastUsed) {
      const cursor = this.#cursors.get(key);
      if (now - usedAt > timeoutMS && cursor && !cursor.busy) this.kill(cursor.id);
    }
  }

  killAll(): void {
    for (const cursor of this.#cursors.values()) cursor.kill();
    this.#cursors.clear();
    this.#lastUsed.clear();
  }
}
