// Issue 19's distinct-filter cost, bounded: BENCH_FILTERS sockets from BENCH_ADDRESSES... one
// address, each with its own filter of the largest size a 16 KB URL allows (100 authors of 60
// characters, 30 authorIds of 200), then all closed. Prints the server's RSS per distinct filter
// while they are open and what is still held once they left.
// Usage: bun test/bench/abuse/filter-memory.ts [server entry]
import { EmulatorProcess } from "../../support/emulator-process.ts";
import { ServerProcess } from "../../support/server-process.ts";
import { residentBytes } from "../proc-stats.ts";

const FILTERS = Number(process.env.BENCH_FILTERS ?? 2_000);
const entry = Bun.argv[2] ?? "src/index.ts";
const KiB = 1024;
const MiB = 2 ** 20;

await using emulator = await EmulatorProcess.start();
await using server = ServerProcess.spawn(
  {
    MONGODB_URI: emulator.uri.replace("/?", "/filter_memory?"),
    WS_MAX_CONNECTIONS: String(FILTERS + 10),
    WS_MAX_CONNECTIONS_PER_IP: String(FILTERS + 10),
  },
  ["bun", entry],
);
const { http, ws } = await server.listening(30_000);
// BENCH_PLAIN=1: the same sockets without a filter, the baseline a filter's cost is on top of.
const filterUrl = (n: number) => {
  if (process.env.BENCH_PLAIN) return ws;
  const query = new URLSearchParams();
  for (let a = 0; a < 100; a++) query.append("author", `${n}-${a}-`.padEnd(60, "a"));
  for (let a = 0; a < 30; a++) query.append("authorId", `${n}-${a}-`.padEnd(200, "i"));
  return `${ws}?${query}`;
};
const idle = await residentBytes(server.process.pid);
const sockets: WebSocket[] = [];
for (let first = 0; first < FILTERS; first += 100) {
  await Promise.all(
    Array.from({ length: Math.min(100, FILTERS - first) }, (_, n) => {
      const { promise, resolve, reject } = Promise.withResolvers<void>();
      const socket = new WebSocket(filterUrl(first + n));
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new Error("could not connect"));
      sockets.push(socket);
      return promise;
    }),
  );
}
await fetch(`${http}/health/live`);
const open = await residentBytes(server.process.pid);
await Promise.all(
  sockets.map((socket) => {
    const { promise, resolve } = Promise.withResolvers<void>();
    socket.onclose = () => resolve();
    socket.close();
    return promise;
  }),
);
// The server's own sweep and GC run on their schedule: a few seconds of quiet, then read.
await Bun.sleep(5_000);
const after = await residentBytes(server.process.pid);
console.log(
  `${entry}: ${FILTERS} distinct filters of ~15 KB: RSS ${(idle / MiB).toFixed(0)} → ${(open / MiB).toFixed(0)} MiB ` +
    `(${((open - idle) / FILTERS / KiB).toFixed(1)} KiB per filter); ${(after / MiB).toFixed(0)} MiB 5 s after all left ` +
    `(${((after - idle) / MiB).toFixed(0)} MiB still held)`,
);
