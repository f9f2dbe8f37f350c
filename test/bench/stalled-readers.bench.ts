// `bun run bench:stalled`: the server's resident memory while thousands of WebSocket clients never
// read, with the global send-buffer budget at a few sizes and (for comparison) effectively off.
// Runs the feed server and the emulator in child processes, on loopback; bounded in count and time.
import { FeedClient } from "../support/feed-client.ts";
import { EmulatorProcess } from "../support/emulator-process.ts";
import { ServerProcess } from "../support/server-process.ts";

const READERS = Number(process.env.BENCH_STALLED ?? 2_000);
const POSTS = Number(process.env.BENCH_POSTS ?? 250);
const MiB = 2 ** 20;
const budgets = (process.env.BENCH_BUDGETS ?? "32,64,128,off").split(",");

async function memory(pid: number): Promise<{ resident: number; peak: number }> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  return { resident: kib("VmRSS"), peak: kib("VmHWM") };
}

async function run(uri: string, budget: string): Promise<string> {
  const total = budget === "off" ? String(2 ** 50) : String(Number(budget) * MiB);
  await using server = ServerProcess.spawn({
    MONGODB_URI: uri.replace("/?", `/stalled_${budget}?`),
    WS_SEND_BUFFER_TOTAL: total,
    WS_MAX_CONNECTIONS: String(READERS + 10),
    WS_MAX_CONNECTIONS_PER_IP: String(READERS + 10),
  });
  const { http, ws } = await server.listening(30_000);
  const reader = await FeedClient.connect(ws);
  const crowd = Bun.spawn(["bun", new URL("../support/stalled-readers-fixture.ts", import.meta.url).pathname, ws, String(READERS)], {
    stdout: "pipe",
  });
  const lines = crowd.stdout.pipeThrough(new TextDecoderStream()).getReader();
  for (let output = ""; !output.includes('"event":"open"'); ) output += (await lines.read()).value ?? "";
  process.kill(crowd.pid, "SIGSTOP");
  try {
    const idle = await memory(server.process.pid);
    const started = performance.now();
    for (let n = 0; n < POSTS; n++) {
      const body = JSON.stringify({ author: "bench", content: `${n} ${"x".repeat(9_990)}` });
      const response = await fetch(`${http}/posts`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
      if (response.status !== 201) throw new Error(`POST answered ${response.status}`);
    }
    await reader.untilInserts(POSTS, 120_000);
    const elapsed = performance.now() - started;
    const end = await memory(server.process.pid);
    // From the metrics: the log writes one line per kind per 10 s, then a count.
    const metrics = await (await fetch(`${http}/metrics`)).text();
    const closes = (code: string) =>
      Number(new RegExp(`mongo_feed_server_closes_total\\{code="${code}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    return (
      `budget ${budget.padStart(4)} MiB: idle ${(idle.resident / MiB).toFixed(0)} MiB, peak ${(end.peak / MiB).toFixed(0)} MiB ` +
      `(+${((end.peak - idle.resident) / MiB).toFixed(0)} MiB, ${((end.peak - idle.resident) / READERS / 1024).toFixed(0)} KiB per reader), ` +
      `closed 1013: ${closes("1013")}, dropped: ${closes("1006")}, posts delivered in ${elapsed.toFixed(0)} ms`
    );
  } finally {
    crowd.kill("SIGKILL");
    reader.close();
  }
}

const emulator = await EmulatorProcess.start();
try {
  console.log(`${READERS} readers that never read, ${POSTS} posts of 10,000 characters, WS_SEND_BUFFER_LIMIT 1 MiB`);
  for (const budget of budgets) console.log(await run(emulator.uri, budget));
} finally {
  await emulator[Symbol.asyncDispose]();
}
