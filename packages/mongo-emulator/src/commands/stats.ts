/** dbStats and `$collStats` (what mongosh's db.stats() and collection.stats() show), sizes from the documents' BSON size. */
import { calculateObjectSize, type Document } from "bson";
import type { Collection } from "../store.ts";
import type { CommandContext, CommandHandler } from "./context.ts";

/** The one document a `{$collStats: {storageStats: {}}}` stage produces. */
export function collStatsDocument(ctx: CommandContext, coll: Collection | undefined, spec: Document): Document {
  const doc: Document = { ns: `${ctx.db}.${coll?.name ?? String(ctx.command.aggregate)}`, host: ctx.state.host, localTime: new Date() };
  if (spec.storageStats === undefined) return doc;
  let size = 0;
  for (const stored of coll?.docs.values() ?? []) size += calculateObjectSize(stored);
  const count = coll?.docs.size ?? 0;
  const indexes = coll?.indexes ?? [];
  doc.storageStats = {
    size,
    count,
    avgObjSize: count > 0 ? Math.floor(size / count) : 0,
    storageSize: size,
    freeStorageSize: 0,
    capped: coll?.options.capped === true,
    ...(coll?.options.capped === true ? { maxSize: Number(coll.options.size ?? 0) } : {}),
    nindexes: indexes.length,
    indexDetails: {},
    indexBuilds: [],
    totalIndexSize: indexes.length * 4096,
    totalSize: size + indexes.length * 4096,
    indexSizes: Object.fromEntries(indexes.map((index) => [index.name, 4096])),
    scaleFactor: 1,
  };
  return doc;
}

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
