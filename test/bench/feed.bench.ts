// `bun run bench:feed`: throughput and latency of the feed server, each next to a baseline
// measured in the same run (these machines are shared and noisy: read the ratios).
// Everything runs on loopback in child processes, bounded in count and time.
import { FeedClient } from "../support/feed-client.ts";
import { EmulatorProcess } from "../support/emulator-process.ts";
import { ServerProcess } from "../support/server-process.ts";

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 100);
const POSTS = 3_000;
const IN_FLIGHT = 64;
const LATENCY_SAMPLES = 300;
const DEADLINE = AbortSignal.timeout(180_000);

type Figures = { acceptedPerSecond: number; deliveredPerSecond: number; latencyP50: number; latencyP99: number };

async function measure(server: ServerProcess): Promise<Figures> {
  const { http, ws } = await server.listening(30_000);
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => FeedClient.connect(ws)));
  const body = (n: number) => JSON.stringify({ author: "bench", content: `post ${n} ${"x".repeat(200)}` });
  const post = (n: number) =>
    fetch(`${http}/posts`, { method: "POST", headers: { "Content-Type": "application/json" }, body: body(n), signal: DEADLINE });

  // Throughput: POSTS requests with IN_FLIGHT at a time; delivered = every client has every frame.
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < POSTS) {
        const response = await post(next++);
        if (response.status !== 201) throw new Error(`POST answered ${response.status}`);
      }
    }),
  );
  const accepted = performance.now();
  await Promise.all(clients.map((client) => client.untilInserts(POSTS, 120_000)));
  const delivered = performance.now();

  // Latency: one POST at a time, from its acknowledgement to the frame reaching a client.
  const watcher = clients[0]!;
  const latencies: number[] = [];
  for (let n = 0; n < LATENCY_SAMPLES; n++) {
    const seen = watcher.inserts.length;
    await post(POSTS + n);
    const acknowledged = performance.now();
    await watcher.untilInserts(seen + 1);
    latencies.push(performance.now() - acknowledged);
  }
  latencies.sort((a, b) => a - b);
  for (const client of clients) client.close();
  return {
    acceptedPerSecond: POSTS / ((accepted - started) / 1000),
    deliveredPerSecond: (POSTS * CLIENTS) / ((delivered - started) / 1000),
    latencyP50: latencies[Math.floor(latencies.length * 0.5)]!,
    latencyP99: latencies[Math.floor(latencies.length * 0.99)]!,
  };
}

const emulator = await EmulatorProcess.start();
try {
  const baselineServer = ServerProcess.spawn({}, ["bun", "test/bench/publish-baseline-fixture.ts"]);
  const baseline = await measure(baselineServer);
  baselineServer.kill("SIGTERM");
  await baselineServer.exited;

  const feedServer = ServerProcess.spawn({ MONGODB_URI: emulator.uri.replace("/?", "/bench?"), LOG_LEVEL: "info" });
  const feed = await measure(feedServer);
  feedServer.kill("SIGTERM");
  await feedServer.exited;

  const row = (name: string, unit: string, ours: number, base: number) =>
    console.log(
      `${name.padEnd(34)} ${ours.toFixed(1).padStart(10)} ${unit.padEnd(9)} baseline ${base.toFixed(1).padStart(10)}   ratio ${(ours / base).toFixed(2)}`,
    );
  console.log(`feed server vs. a bare Bun publish server, ${CLIENTS} WebSocket clients, ${POSTS} posts (${IN_FLIGHT} in flight)`);
  row("POSTs accepted", "/s", feed.acceptedPerSecond, baseline.acceptedPerSecond);
  row("frames delivered (all clients)", "/s", feed.deliveredPerSecond, baseline.deliveredPerSecond);
  row("ack → frame latency p50", "ms", feed.latencyP50, baseline.latencyP50);
  row("ack → frame latency p99", "ms", feed.latencyP99, baseline.latencyP99);
} finally {
  await emulator[Symbol.asyncDispose]();
}
