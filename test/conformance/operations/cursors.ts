import type { AbstractCursor, ChangeStream, Collection, Db, MongoClient } from "mongodb";
import type { Document } from "../bson-values";
import type { Entity } from "../entities";
import type { Args, Operations } from "./definition";

type IterableTarget = Extract<Entity, { kind: "changeStream" | "cursor" }>;

/** The driver keeps cursorInit for exactly this purpose (its own unified runner calls it). */
type Initializable = { cursorInit(): Promise<void> };

/** Makes the server-side cursor exist (find/aggregate/command sent) without consuming a document. */
export async function initializedCursor<C extends AbstractCursor<Document>>(cursor: C): Promise<C> {
  await (cursor as unknown as Initializable).cursorInit();
  return cursor;
}

/** Runs `watch` and makes the aggregate execute without consuming any change. */
export async function createChangeStream(target: MongoClient | Db | Collection<Document>, args: Args): Promise<ChangeStream<Document>> {
  const { pipeline, ...options } = args;
  const stream = target.watch(pipeline ?? [], options);
  await (stream as unknown as { cursor: Initializable }).cursor.cursorInit();
  return stream;
}

export const iterableOperations: Operations<IterableTarget> = {
  iterateUntilDocumentOrError: {
    args: [],
    run: async (target) => {
      if (target.kind === "changeStream") return target.stream.next();
      // A tailable cursor can return empty batches before a document arrives.
      for (;;) {
        const document = await target.cursor.tryNext();
        if (document !== null || target.cursor.closed) return document;
      }
    },
  },
  // One getMore at most when the batch is empty.
  iterateOnce: {
    args: [],
    run: (target) => (target.kind === "changeStream" ? target.stream.tryNext() : target.cursor.tryNext()),
  },
  // The spec has runners suppress errors from closing (killCursors).
  close: {
    args: [],
    run: async (target) => void (await (target.kind === "changeStream" ? target.stream : target.cursor).close().catch(() => undefined)),
  },
};
