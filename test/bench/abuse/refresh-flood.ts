// Issue 19's refresh flood, bounded: one attacker sends auth frames (valid tokens, same sub, a
// later exp each) as fast as its socket drains, reconnecting whenever it is closed, for
// BENCH_SECONDS; meanwhile another user POSTs and a probe asks /health/live every 100 ms.
// Prints the server's CPU, peak RSS and those latencies. Usage: bun test/bench/abuse/refresh-flood.ts [server entry]
import { EmulatorProcess } from "../../support/emulator-process.ts";
import { ServerProcess } from "../../support/server-process.ts";
import { claims, nowSeconds, randomSecret, signHs256 } from "../../support/tokens.ts";
import { cpuMillis, residentBytes } from "../proc-stats.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const entry = Bun.argv[2] ?? "src/index.ts";
const secret = randomSecret();
const MiB = 2 ** 20;

const tokens = await Promise.all(
  Array.from({ length: 500 }, (_, i) => signHs256(secret, claims({ sub: "attacker", exp: nowSeconds() + 600 + i }))),
);
const victim = await signHs256(secret, claims({ sub: "victim", name: "Victim" }));

await using emulator = await EmulatorProcess.start();
await using server = ServerProcess.spawn(
  { MONGODB_URI: emulator.uri.replace("/?", "/refresh_flood?"), AUTH_JWT_SECRET: secret, WRITE_RATE_LIMIT_PER_MINUTE: "0" },
  ["bun", entry],
);
const { http, ws } = await server.listening(30_000);
const pid = server.process.pid;
const rssBefore = await residentBytes(pid);
const cpuBefore = await cpuMillis(pid);
const deadline = performance.now() + SECONDS * 1000;
let frames = 0;
let connections = 0;

async function attack(): Promise<void> {
  while (performance.now() < deadline) {
    connections++;
    const socket = new WebSocket(ws, ["mongo-feed.v1", `bearer.${tokens[0]}`]);
    const closed = new Promise((resolve) => socket.addEventListener("close", resolve, { once: true }));
    await new Promise((resolve) => socket.addEventListener("open", resolve, { once: true }));
    while (socket.readyState === WebSocket.OPEN && performance.now() < deadline) {
      for (let i = 0; i < 50 && socket.bufferedAmount < MiB; i++)
        socket.send(JSON.stringify({ type: "auth", token: tokens[frames++ % tokens.length] }));
      await new Promise((resolve) => setImmediate(resolve));
    }
    socket.close();
    await closed;
  }
}

async function sample(probe: () => Promise<void>): Promise<number[]> {
  const latencies: number[] = [];
  while (performance.now() < deadline) {
    const started = performance.now();
    await probe();
    latencies.push(performance.now() - started);
    await Bun.sleep(100); // a probe's pace, not a wait for an event
  }
  return latencies;
}

let peak = rssBefore;
const watcher = setInterval(async () => (peak = Math.max(peak, await residentBytes(pid))), 100);
const [, health, posts] = await Promise.all([
  attack(),
  sample(async () => void (await fetch(`${http}/health/live`)).arrayBuffer()),
  sample(async () => {
    const response = await fetch(`${http}/posts`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${victim}` },
      body: JSON.stringify({ content: "still here" }),
    });
    if (response.status !== 201) throw new Error(`POST answered ${response.status}`);
  }),
]);
clearInterval(watcher);
const cpu = (await cpuMillis(pid)) - cpuBefore;
const quantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))]!;
console.log(
  `${entry}: ${SECONDS} s flood, ${frames} auth frames sent on ${connections} connections; server CPU ${(cpu / 1000).toFixed(1)} s, ` +
    `RSS ${(rssBefore / MiB).toFixed(0)} → peak ${(peak / MiB).toFixed(0)} MiB; /health/live p50 ${quantile(health, 0.5).toFixed(1)} ms ` +
    `max ${Math.max(...health).toFixed(1)} ms; other user's POST p50 ${quantile(posts, 0.5).toFixed(1)} ms max ${Math.max(...posts).toFixed(1)} ms`,
);
