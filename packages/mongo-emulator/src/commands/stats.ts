/** dbStats (what mongosh's db.stats() shows), with sizes computed from the BSON size of the documents. */
import { calculateObjectSize } from "bson";
import type { CommandHandler } from "./context.ts";

const dbStats: CommandHandler = (ctx) => {
  const scale = Math.max(1, Number(ctx.command.scale ?? 1) || 1);
  let collections = 0;
  let views = 0;
  let objects = 0;
  let dataSize = 0;
  let indexes = 0;
  for (const coll of ctx.state.store.collections(ctx.db)) {
    if (coll.options.viewOn !== undefined) {
      views++;
      continue;
    }
    collections++;
    indexes += coll.indexes.length;
    objects += coll.docs.size;
    for (const doc of coll.docs.values()) dataSize += calculateObjectSize(doc);
  }
  const indexSize = indexes * 4096;
  return {
    db: ctx.db,
    collections,
    views,
    objects,
    avgObjSize: objects > 0 ? dataSize / objects : 0,
    dataSize: dataSize / scale,
    storageSize: dataSize / scale,
    indexes,
    indexSize: indexSize / scale,
    totalSize: (dataSize + indexSize) / scale,
    scaleFactor: scale,
    fsUsedSize: 0,
    fsTotalSize: 0,
    ok: 1,
  };
};

export const statsCommands: Record<string, CommandHandler> = { dbStats, dbstats: dbStats };
