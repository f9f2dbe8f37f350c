import type { Readable, Writable } from "node:stream";
import { isDocument } from "../bson-values";
import type { Entity } from "../entities";
import type { ArgumentName, Operations } from "./definition";

type BucketTarget = Extract<Entity, { kind: "bucket" }>;

const UPLOAD: ArgumentName[] = ["filename", "source", "chunkSizeBytes", "metadata", "contentType", "aliases", "disableMD5"];

/** `{ $$hexBytes: "12ab" }` → its bytes; anything else is a malformed test. */
function hexBytes(source: unknown): Buffer {
  const hex = isDocument(source) ? source.$$hexBytes : undefined;
  if (typeof hex !== "string" || !/^([0-9a-f]{2})*$/i.test(hex)) throw new Error("upload source must be { $$hexBytes: <even hex string> }");
  return Buffer.from(hex, "hex");
}

/** Reads a download stream whole; missing or corrupt chunks surface as its error. */
async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function writeAll(stream: Writable & { id: unknown }, bytes: Buffer): Promise<unknown> {
  const { promise, resolve, reject } = Promise.withResolvers<unknown>();
  stream.once("error", reject);
  stream.once("finish", () => resolve(stream.id));
  stream.end(bytes);
  return promise;
}

/** GridFS bucket operations; download returns the bytes (matched with $$matchesHexBytes). */
export const bucketOperations: Operations<BucketTarget> = {
  delete: { args: ["id"], run: ({ bucket }, { id }) => bucket.delete(id) },
  download: { args: ["id"], run: ({ bucket }, { id }) => readAll(bucket.openDownloadStream(id)) },
  downloadByName: {
    args: ["filename", "revision"],
    run: ({ bucket }, { filename, revision }) => readAll(bucket.openDownloadStreamByName(filename, { revision })),
  },
  upload: {
    args: UPLOAD,
    run: ({ bucket }, { filename, source, ...o }) => writeAll(bucket.openUploadStream(filename, o), hexBytes(source)),
  },
  uploadWithId: {
    args: ["id", ...UPLOAD],
    run: ({ bucket }, { id, filename, source, ...o }) => writeAll(bucket.openUploadStreamWithId(id, filename, o), hexBytes(source)),
  },
  rename: { args: ["id", "newFilename"], run: ({ bucket }, { id, newFilename }) => bucket.rename(id, newFilename) },
  drop: { args: [], run: ({ bucket }) => bucket.drop() },
};
