/** Test helpers for the three-member emulator: a driver client that reports what it discovered. */
import { deserialize, serialize, type Document } from "bson";
import { MongoClient, type MongoClientOptions, type TopologyDescription } from "mongodb";
import { startEmulator, type Emulator } from "./index.ts";

/** Starts three members with a short election timeout. */
export function startReplicaSet(options: { replicationDelayMs?: number } = {}): Promise<Emulator> {
  return startEmulator({ members: 3, electionTimeoutMs: 100, ...options });
}

/** A client that can wait until its view of the set satisfies a condition (SDAM events, no polling). */
export class ObservedClient extends MongoClient {
  #latest: TopologyDescription | undefined;
  #checks = new Set<() => void>();

  constructor(uri: string, options: MongoClientOptions = {}) {
    super(uri, options);
    this.on("topologyDescriptionChanged", (event) => {
      this.#latest = event.newDescription;
      for (const check of [...this.#checks]) check();
    });
  }

  /** Resolves with the server types by address once `predicate` holds for them. */
  async discovered(predicate: (types: string[]) => boolean): Promise<Map<string, string>> {
    const types = () => new Map([...(this.#latest?.servers ?? new Map()).entries()].map(([address, server]) => [address, server.type]));
    const { promise, resolve } = Promise.withResolvers<Map<string, string>>();
    const check = () => {
      const current = types();
      if (!predicate([...current.values()])) return;
      this.#checks.delete(check);
      resolve(current);
    };
    this.#checks.add(check);
    check();
    return promise;
  }
}

/** One primary and two secondaries. */
export const healthySet = (types: string[]) =>
  types.filter((type) => type === "RSPrimary").length === 1 && types.filter((type) => type === "RSSecondary").length === 2;

/** Sends one OP_MSG exactly as given (no driver adding `$readPreference`) and resolves with the reply body. */
export async function rawCommand(port: number, body: Document, flags = 0): Promise<Document> {
  const bson = serialize(body);
  const header = Buffer.alloc(21);
  header.writeInt32LE(21 + bson.length, 0);
  header.writeInt32LE(1, 4);
  header.writeInt32LE(2013, 12);
  header.writeUInt32LE(flags, 16);
  const reply = Promise.withResolvers<Document>();
  let pending = Buffer.alloc(0);
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_socket, chunk) {
        pending = Buffer.concat([pending, chunk]);
        if (pending.length >= 4 && pending.length >= pending.readInt32LE(0))
          reply.resolve(deserialize(pending.subarray(21, pending.readInt32LE(0))));
      },
      close() {
        reply.reject(new Error("closed before replying"));
      },
    },
  });
  socket.write(Buffer.concat([header, bson]));
  try {
    return await reply.promise;
  } finally {
    socket.end();
  }
}
