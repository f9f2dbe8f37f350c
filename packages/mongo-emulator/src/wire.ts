/** MongoDB wire protocol framing: OP_MSG and legacy OP_QUERY in, OP_MSG and OP_REPLY out. */
import { deserialize, serialize, type Document } from "bson";
import { crc32c } from "./crc32c.ts";

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;
export const MSG_CHECKSUM_PRESENT = 1 << 0;
export const MSG_MORE_TO_COME = 1 << 1;
export const MSG_EXHAUST_ALLOWED = 1 << 16;
/** Largest message we accept (the server advertises 48 MB). */
export const MAX_MESSAGE_SIZE = 48_000_000;

/** One decoded client request. `command` already has kind-1 document sequences folded in. */
export interface Request {
  requestId: number;
  opCode: typeof OP_MSG | typeof OP_QUERY;
  flags: number;
  command: Document;
  /** For OP_QUERY: the namespace it was sent to (`admin.$cmd`). */
  fullCollectionName?: string;
}

/** Thrown for input that is not a valid message; the connection is closed. */
export class ProtocolError extends Error {}

/** Accumulates TCP chunks and yields complete messages (copied, safe to keep). */
export class MessageFramer {
  #pending: Buffer | null = null;

  /** Appends a chunk and returns every complete message it finished. */
  push(chunk: Buffer): Buffer[] {
    const buf = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    const out: Buffer[] = [];
    let offset = 0;
    while (buf.length - offset >= 4) {
      const size = buf.readInt32LE(offset);
      if (size < 16 || size > MAX_MESSAGE_SIZE) throw new ProtocolError(`invalid message length ${size}`);
      if (buf.length - offset < size) break;
      out.push(Buffer.from(buf.subarray(offset, offset + size)));
      offset += size;
    }
    this.#pending = offset === buf.length ? null : Buffer.from(buf.subarray(offset));
    return out;
  }
}

function readCString(buf: Buffer, offset: number): [string, number] {
  const end = buf.indexOf(0, offset);
  if (end < 0) throw new ProtocolError("unterminated cstring");
  return [buf.toString("utf8", offset, end), end + 1];
}

function readDocument(buf: Buffer, offset: number, limit: number): [Document, number] {
  if (offset + 5 > limit) throw new ProtocolError("truncated document");
  const size = buf.readInt32LE(offset);
  if (size < 5 || offset + size > limit) throw new ProtocolError("invalid document size");
  const doc = deserialize(buf.subarray(offset, offset + size), { validation: { utf8: false } });
  return [doc, offset + size];
}

/** Decodes one complete message. Throws ProtocolError on anything malformed. */
export function decodeMessage(buf: Buffer): Request {
  const requestId = buf.readInt32LE(4);
  const opCode = buf.readInt32LE(12);
  try {
    if (opCode === OP_MSG) return decodeOpMsg(buf, requestId);
    if (opCode === OP_QUERY) return decodeOpQuery(buf, requestId);
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    throw new ProtocolError(String(error));
  }
  throw new ProtocolError(`unsupported opCode ${opCode}`);
}

function decodeOpMsg(buf: Buffer, requestId: number): Request {
  const flags = buf.readUInt32LE(16);
  let limit = buf.length;
  if (flags & MSG_CHECKSUM_PRESENT) {
    limit -= 4;
    if (limit < 21) throw new ProtocolError("message too short for checksum");
    if (crc32c(buf.subarray(0, limit)) !== buf.readUInt32LE(limit)) throw new ProtocolError("OP_MSG checksum mismatch");
  }
  let offset = 20;
  let command: Document | undefined;
  const sequences: [string, Document[]][] = [];
  while (offset < limit) {
    const kind = buf[offset++];
    if (kind === 0) {
      if (command) throw new ProtocolError("more than one body section");
      [command, offset] = readDocument(buf, offset, limit);
    } else if (kind === 1) {
      const size = buf.readInt32LE(offset);
      const end = offset + size;
      if (size < 5 || end > limit) throw new ProtocolError("invalid document sequence size");
      let [identifier, pos] = readCString(buf, offset + 4);
      const docs: Document[] = [];
      while (pos < end) {
        let doc: Document;
        [doc, pos] = readDocument(buf, pos, end);
        docs.push(doc);
      }
      sequences.push([identifier, docs]);
      offset = end;
    } else {
      throw new ProtocolError(`unknown section kind ${kind}`);
    }
  }
  if (!command) throw new ProtocolError("missing body section");
  for (const [identifier, docs] of sequences) command[identifier] = docs;
  return { requestId, opCode: OP_MSG, flags, command };
}

function decodeOpQuery(buf: Buffer, requestId: number): Request {
  const flags = buf.readInt32LE(16);
  const [fullCollectionName, afterName] = readCString(buf, 20);
  const [command] = readDocument(buf, afterName + 8, buf.length);
  return { requestId, opCode: OP_QUERY, flags, command, fullCollectionName };
}

let nextResponseId = 1;

/** Writes the standard 16-byte message header at the start of `header`. */
function writeMessageHeader(header: Buffer, messageLength: number, responseTo: number, opCode: number): void {
  header.writeInt32LE(messageLength, 0);
  header.writeInt32LE(nextResponseId++ & 0x7fffffff, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(opCode, 12);
}

/** Encodes an OP_MSG reply (no checksum). */
export function encodeOpMsg(responseTo: number, body: Document, flags = 0): Buffer {
  const bson = serialize(body);
  const header = Buffer.allocUnsafe(21);
  writeMessageHeader(header, 21 + bson.length, responseTo, OP_MSG);
  header.writeUInt32LE(flags, 16);
  header[20] = 0;
  return Buffer.concat([header, bson], 21 + bson.length);
}

/** Encodes a legacy OP_REPLY carrying one document (the answer to an OP_QUERY handshake). */
export function encodeOpReply(responseTo: number, body: Document): Buffer {
  const bson = serialize(body);
  const header = Buffer.alloc(36);
  writeMessageHeader(header, 36 + bson.length, responseTo, OP_REPLY);
  header.writeInt32LE(0, 16); // responseFlags
  // cursorID (8 bytes) = 0, startingFrom = 0
  header.writeInt32LE(1, 32); // numberReturned
  return Buffer.concat([header, bson], 36 + bson.length);
}
