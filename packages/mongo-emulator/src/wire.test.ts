// Defends: the emulator frames the wire protocol robustly: pipelined and split messages, garbage, OP_MSG checksums.
import { expect, test } from "bun:test";
import { deserialize, serialize } from "bson";
import { crc32c } from "./crc32c.ts";
import { startEmulator } from "./index.ts";

function opMsg(requestId: number, body: object): Buffer {
  const bson = serialize(body);
  const header = Buffer.alloc(21);
  header.writeInt32LE(21 + bson.length, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(2013, 12);
  return Buffer.concat([header, bson]);
}

/** An OP_MSG with the checksumPresent flag and a CRC-32C trailer (optionally corrupted). */
function checksummed(requestId: number, body: object, corrupt = false): Buffer {
  const plain = opMsg(requestId, body);
  const msg = Buffer.concat([plain, Buffer.alloc(4)]);
  msg.writeInt32LE(msg.length, 0);
  msg.writeUInt32LE(1, 16);
  msg.writeUInt32LE((crc32c(msg.subarray(0, msg.length - 4)) ^ (corrupt ? 1 : 0)) >>> 0, msg.length - 4);
  return msg;
}

/** A raw TCP client that collects replies by responseTo. */
async function rawClient(port: number) {
  const replies: { responseTo: number; body: Record<string, unknown> }[] = [];
  let pending = Buffer.alloc(0);
  let notify = () => {};
  const closed = Promise.withResolvers<void>();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, chunk) {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
          const size = pending.readInt32LE(0);
          replies.push({ responseTo: pending.readInt32LE(8), body: deserialize(pending.subarray(21, size)) });
          pending = pending.subarray(size);
        }
        notify();
      },
      close() {
        closed.resolve();
      },
    },
  });
  const waitFor = async (count: number) => {
    while (replies.length < count) await new Promise<void>((resolve) => (notify = resolve));
  };
  return { socket, replies, waitFor, closed: closed.promise };
}

test("answers many pipelined messages split at arbitrary chunk boundaries", async () => {
  await using emulator = await startEmulator();
  const client = await rawClient(emulator.port);
  const bytes = Buffer.concat(Array.from({ length: 50 }, (_, i) => opMsg(i + 1, { ping: 1, $db: "admin" })));
  for (let offset = 0; offset < bytes.length; offset += 7) client.socket.write(bytes.subarray(offset, offset + 7));
  await client.waitFor(50);
  expect(client.replies.map((r) => r.responseTo)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  expect(client.replies.every((r) => r.body.ok === 1)).toBe(true);
  client.socket.end();
});

test("closes a connection that sends garbage and keeps serving others", async () => {
  await using emulator = await startEmulator();
  const bad = await rawClient(emulator.port);
  bad.socket.write(Buffer.from([0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
  await bad.closed;
  const good = await rawClient(emulator.port);
  good.socket.write(opMsg(9, { hello: 1, $db: "admin" }));
  await good.waitFor(1);
  expect(good.replies[0]?.body.setName).toBe("rs0");
  good.socket.end();
});

test("accepts an OP_MSG checksum and drops a connection whose checksum is wrong", async () => {
  await using emulator = await startEmulator();
  const good = await rawClient(emulator.port);
  good.socket.write(checksummed(1, { ping: 1, $db: "admin" }));
  await good.waitFor(1);
  expect(good.replies[0]?.body.ok).toBe(1);
  good.socket.end();
  const bad = await rawClient(emulator.port);
  bad.socket.write(checksummed(2, { ping: 1, $db: "admin" }, true));
  await bad.closed;
  expect(bad.replies).toHaveLength(0);
});
