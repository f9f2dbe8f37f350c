/**
 * Emulator benchmark: `bun run bench:emulator [--seconds 3] [--concurrency 32] [--in-process]`.
 * The emulator runs in its own process (like a real mongod) unless --in-process is given.
 * Prints a baseline (driver ping round trips/s), insertOne/s with a change stream open, and the
 * latency from an insert's acknowledgement to its change event reaching a waiting stream.
 */
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { ObjectId, serialize } from "bson";
import { MongoClient, type ChangeStreamDocument } from "mongodb";
import { startEmulator } from "mongo-emulator";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    seconds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "32" },
    samples: { type: "string", default: "2000" },
    "in-process": { type: "boolean", default: false },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const samples = Number(values.samples);

interface Server {
  uri: string;
  port: number;
  /** CPU seconds the emulator process has used so far (undefined in-process). */
  cpuSeconds(): number | undefined;
  close(): Promise<void>;
}

async function startServer(): Promise<Server> {
  if (values["in-process"]) {
    const emulator = await startEmulator();
    return { uri: emulator.uri, port: emulator.port, cpuSeconds: () => undefined, close: () => emulator.close() };
  }
  const child = Bun.spawn(["bun", new URL("../../packages/mongo-emulator/src/main.ts", import.meta.url).pathname, "--port", "0"], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("emulator exited before printing its URI");
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const uri = text.trim();
  return {
    uri,
    port: Number(new URL(uri).port),
    cpuSeconds: () => {
      // utime + stime from /proc/<pid>/stat (fields 14 and 15, in clock ticks).
      const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      return (Number(fields[11]) + Number(fields[12])) / 100;
    },
    close: async () => {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

/** Runs `op` in `concurrency` loops for the duration; returns operations per second. */
async function throughput(op: () => Promise<unknown>): Promise<number> {
  let count = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await op();
        count++;
      }
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

/** Raw OP_MSG insert load: `sockets` connections, each keeping `depth` inserts in flight. */
async function rawInserts(port: number, sockets: number, depth: number): Promise<number> {
  let acked = 0;
  let requestId = 1;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  const message = () => {
    const bson = serialize({ insert: "raw", documents: [{ _id: new ObjectId(), n: requestId }], $db: "bench" });
    const header = Buffer.alloc(21);
    header.writeInt32LE(21 + bson.length, 0);
    header.writeInt32LE(requestId++, 4);
    header.writeInt32LE(2013, 12);
    return Buffer.concat([header, bson]);
  };
  await Promise.all(
    Array.from({ length: sockets }, async () => {
      const done = Promise.withResolvers<void>();
      let pending: Buffer = Buffer.alloc(0);
      let inFlight = 0;
      const socket = await Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: {
          data(s, chunk) {
            pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
            while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
              pending = pending.subarray(pending.readInt32LE(0));
              acked++;
              inFlight--;
              if (performance.now() < deadline) {
                s.write(message());
                inFlight++;
              }
            }
            if (inFlight === 0) done.resolve();
          },
          close: () => done.resolve(),
        },
      });
      for (let i = 0; i < depth; i++) socket.write(message());
      inFlight = depth;
      await done.promise;
      socket.end();
    }),
  );
  return acked / ((performance.now() - started) / 1000);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const server = await startServer();
const writer = new MongoClient(server.uri, { maxPoolSize: concurrency + 4 });
const watcher = new MongoClient(server.uri);
try {
  const db = writer.db("bench");
  await db.command({ ping: 1 });
  await throughput(() => db.command({ ping: 1 })); // warm up connections and JIT

  const pingsPerSecond = await throughput(() => db.command({ ping: 1 }));

  // One change stream open and drained for the whole insert run.
  const coll = db.collection<{ _id?: unknown; n: number }>("items");
  const stream = watcher.db("bench").collection("items").watch([], { maxAwaitTimeMS: 60_000 });
  const arrivals = new Map<number, number>();
  const waiters = new Map<number, (at: number) => void>();
  let received = 0;
  let streaming = true;
  const drain = (async () => {
    while (streaming) {
      const event = (await stream.next().catch(() => null)) as ChangeStreamDocument<{ n: number }> | null;
      if (!event) return;
      received++;
      if (event.operationType !== "insert") continue;
      const at = performance.now();
      const n = event.fullDocument.n;
      const waiter = waiters.get(n);
      if (waiter) waiter(at);
      else if (n < 0) arrivals.set(n, at);
    }
  })();
  // The stream opens lazily; write until its first event shows it is established.
  while (received === 0) {
    await coll.insertOne({ n: 0 });
    await Bun.sleep(5);
  }

  let seq = 1;
  const cpuBefore = server.cpuSeconds();
  const receivedBefore = received;
  const insertsPerSecond = await throughput(() => coll.insertOne({ n: seq++ }));
  const cpuAfter = server.cpuSeconds();
  const driverInserts = seq - 1;
  const emulatorMicrosPerInsert =
    cpuBefore === undefined || cpuAfter === undefined ? undefined : ((cpuAfter - cpuBefore) * 1e6) / driverInserts;
  while (received - receivedBefore < driverInserts) await Bun.sleep(5);

  // Emulator capacity without the driver's per-operation cost: pipelined raw OP_MSG inserts.
  const rawPerSecond = await rawInserts(server.port, 8, 16);

  // Latency: one insert at a time; time from the insert's acknowledgement to its event.
  const latencies: number[] = [];
  for (let i = 1; i <= samples; i++) {
    const n = -i;
    const event = Promise.withResolvers<number>();
    waiters.set(n, event.resolve);
    await coll.insertOne({ n });
    const acked = performance.now();
    const early = arrivals.get(n);
    const arrivedAt = early ?? (await event.promise);
    waiters.delete(n);
    latencies.push(Math.max(0, arrivedAt - acked));
  }
  streaming = false;
  await stream.close();
  await drain;
  latencies.sort((a, b) => a - b);

  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  console.log(
    `emulator bench (${values["in-process"] ? "in-process" : "separate process"}, ${concurrency} in flight, ${seconds}s per run)`,
  );
  console.log(`  baseline ping:           ${fmt(pingsPerSecond)} round trips/s`);
  console.log(`  insertOne + 1 stream:    ${fmt(insertsPerSecond)} inserts/s  (${(insertsPerSecond / pingsPerSecond).toFixed(2)}x ping)`);
  console.log(`  change events received:  ${fmt(received)} (every insert's event arrived)`);
  if (emulatorMicrosPerInsert !== undefined) {
    console.log(
      `  emulator CPU per insert: ${emulatorMicrosPerInsert.toFixed(1)} µs (incl. its change event) → ~${fmt(1e6 / emulatorMicrosPerInsert)} inserts/s per core`,
    );
  }
  console.log(
    `  raw OP_MSG inserts:      ${fmt(rawPerSecond)} inserts/s (8 sockets × 16 pipelined, stream open; ${(rawPerSecond / pingsPerSecond).toFixed(2)}x driver ping)`,
  );
  console.log(
    `  ack → event latency:     p50 ${percentile(latencies, 50).toFixed(3)} ms, p99 ${percentile(latencies, 99).toFixed(3)} ms (${samples} samples)`,
  );
} finally {
  await writer.close();
  await watcher.close();
  await server.close();
}
