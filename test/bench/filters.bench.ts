// `bun run bench:filters`: the cost of per-connection filters. 10,000 sockets spread over 1,000
// author filters plus 1,000 unfiltered sockets, against the unfiltered case (11,000 sockets without
// a filter) in the same run, at a paced event rate. Prints frames delivered per second and server
// CPU per event and per 1,000 frames, with ratios. Loopback only, bounded in count and time.
import { MongoClient } from "mongodb";
import { ServerProcess } from "../support/server-process.ts";
import { startEmulatorProcess } from "./emulator-process.ts";
import { cpuMillis } from "./proc-stats.ts";

const AUTHORS = 1_000;
const PER_AUTHOR = 10;
const UNFILTERED = 1_000;
const RATE = Number(process.env.BENCH_RATE ?? 100); // events per second
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const DEADLINE = AbortSignal.timeout(300_000);

type Figures = { events: number; frames: number; framesPerSecond: number; cpuPerEvent: number; cpuPerThousandFrames: number };

/** Opens sockets that only count their frames (no parsing: the client must not be the bottleneck). */
async function openSockets(urls: string[]): Promise<{ received: () => number; close(): void }> {
  const sockets: WebSocket[] = [];
  let received = 0;
  for (let start = 0; start < urls.length; start += 500) {
    await Promise.all(
      urls.slice(start, start + 500).map(
        (url) =>
          new Promise<void>((resolve, reject) => {
            const socket = new WebSocket(url);
            socket.onmessage = () => void received++;
            socket.onopen = () => resolve();
            socket.onerror = () => reject(new Error(`could not connect to ${url}`));
            sockets.push(socket);
          }),
      ),
    );
  }
  return {
    received: () => received,
    close: () => {
      for (const socket of sockets) socket.close();
    },
  };
}

async function measure(uri: string, filtered: boolean): Promise<Figures> {
  await using server = ServerProcess.spawn(
    { MONGODB_URI: uri, LOG_LEVEL: "info" },
    process.env.BENCH_PROFILE ? ["bun", "--cpu-prof-md", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`, "src/index.ts"] : undefined,
  );
  const { ws } = await server.listening(30_000);
  const urls = Array.from({ length: AUTHORS * PER_AUTHOR }, (_, n) => (filtered ? `${ws}?author=a${n % AUTHORS}` : ws));
  urls.push(...Array.from({ length: UNFILTERED }, () => ws));
  const sockets = await openSockets(urls);
  const expectedPerEvent = filtered ? PER_AUTHOR + UNFILTERED : urls.length;

  await using driver = await new MongoClient(uri, { appName: "bench-writer" }).connect();
  const posts = driver.db().collection("posts");
  const events = RATE * SECONDS;
  const cpuBefore = await cpuMillis(server.process.pid);
  const started = performance.now();
  for (let n = 0; n < events && !DEADLINE.aborted; n++) {
    // Paced: event n is due at n / RATE seconds.
    const due = started + (n * 1000) / RATE;
    if (due > performance.now()) await Bun.sleep(due - performance.now());
    await posts.insertOne({
      author: `a${Math.floor(Math.random() * AUTHORS)}`,
      content: `event ${n} ${"x".repeat(200)}`,
      createdAt: new Date(),
    });
  }
  const expected = events * expectedPerEvent;
  while (sockets.received() < expected && !DEADLINE.aborted) await Bun.sleep(20);
  const elapsed = (performance.now() - started) / 1000;
  const cpu = (await cpuMillis(server.process.pid)) - cpuBefore;
  const frames = sockets.received();
  sockets.close();
  server.kill("SIGTERM");
  await server.exited;
  if (frames !== expected) throw new Error(`expected ${expected} frames, got ${frames}`);
  return { events, frames, framesPerSecond: frames / elapsed, cpuPerEvent: cpu / events, cpuPerThousandFrames: (cpu * 1000) / frames };
}

const emulator = await startEmulatorProcess();
try {
  const database = (name: string) => emulator.uri.replace("/?", `/${name}?`);
  const unfiltered = await measure(database("bench_unfiltered"), false);
  const filtered = await measure(database("bench_filtered"), true);
  const row = (name: string, unit: string, value: (figures: Figures) => number) =>
    console.log(
      `${name.padEnd(30)} filtered ${value(filtered).toFixed(2).padStart(12)} ${unit.padEnd(6)} unfiltered ${value(unfiltered).toFixed(2).padStart(12)}   ratio ${(value(filtered) / value(unfiltered)).toFixed(2)}`,
    );
  console.log(
    `\n${AUTHORS * PER_AUTHOR} sockets over ${AUTHORS} author filters + ${UNFILTERED} unfiltered, against ${AUTHORS * PER_AUTHOR + UNFILTERED} unfiltered; ${RATE} events/s for ${SECONDS} s`,
  );
  row("frames per event", "", (figures) => figures.frames / figures.events);
  row("frames delivered", "/s", (figures) => figures.framesPerSecond);
  row("server CPU per event", "ms", (figures) => figures.cpuPerEvent);
  row("server CPU per 1,000 frames", "ms", (figures) => figures.cpuPerThousandFrames);
} finally {
  await emulator.stop();
}
process.exit(0);
