// Issue 19's replay case, bounded: BENCH_REPLAYERS sockets from one address ask for the whole
// history (`since` = before the first of BENCH_REPLAY_POSTS posts of 10,000 characters) and never
// read, while a reader keeps up with a post every 200 ms and a probe asks /health/ready every
// 100 ms for BENCH_SECONDS. Prints the server's RSS (before, peak), readiness answers, and the
// log lines blaming MongoDB. BENCH_READING=1 lets the crowd read (a reconnect storm after a
// restart, with BENCH_POST_CHARS small posts missed). Usage: bun test/bench/abuse/stalled-replays.ts [server entry]
import { EmulatorProcess } from "../../support/emulator-process.ts";
import { FeedClient } from "../../support/feed-client.ts";
import { ServerProcess } from "../../support/server-process.ts";

const REPLAYERS = Number(process.env.BENCH_REPLAYERS ?? 1_000);
const POSTS = Number(process.env.BENCH_REPLAY_POSTS ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CHARS = Number(process.env.BENCH_POST_CHARS ?? 9_990);
const READING = process.env.BENCH_READING === "1";
const entry = Bun.argv[2] ?? "src/index.ts";
const MiB = 2 ** 20;

async function memory(pid: number): Promise<{ resident: number; peak: number }> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  return { resident: kib("VmRSS"), peak: kib("VmHWM") };
}

const post = (http: string, n: number) =>
  fetch(`${http}/posts`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ author: "bench", content: `${n} ${"x".repeat(CHARS)}` }),
  });

await using emulator = await EmulatorProcess.start();
await using server = ServerProcess.spawn(
  {
    MONGODB_URI: emulator.uri.replace("/?", "/stalled_replays?"),
    WS_MAX_CONNECTIONS: String(REPLAYERS + 10),
    WS_MAX_CONNECTIONS_PER_IP: String(REPLAYERS + 10),
  },
  ["bun", entry],
);
const { http, ws } = await server.listening(30_000);
const since = ((await (await fetch(`${http}/posts`)).json()) as { position: string }).position;
const reader = await FeedClient.connect(ws);
for (let n = 0; n < POSTS; n++) if ((await post(http, n)).status !== 201) throw new Error("POST failed");
await reader.untilInserts(POSTS, 120_000);
const idle = await memory(server.process.pid);

const crowd = Bun.spawn(
  [
    "bun",
    new URL("../../support/stalled-readers-fixture.ts", import.meta.url).pathname,
    `${ws}?since=${encodeURIComponent(since)}`,
    String(REPLAYERS),
  ],
  { stdout: "pipe" },
);
const probes = { ok: 0, notReady: 0, maxMs: 0 };
const deadline = performance.now() + SECONDS * 1000;
const probing = (async () => {
  while (performance.now() < deadline) {
    const started = performance.now();
    const status = await fetch(`${http}/health/ready`).then((response) => response.status);
    probes.maxMs = Math.max(probes.maxMs, performance.now() - started);
    if (status === 200) probes.ok++;
    else probes.notReady++;
    await Bun.sleep(100); // the probe's pace, as a load balancer's
  }
})();
try {
  const lines = crowd.stdout.pipeThrough(new TextDecoderStream()).getReader();
  for (let output = ""; !output.includes('"event":"open"'); ) output += (await lines.read()).value ?? "";
  if (!READING) process.kill(crowd.pid, "SIGSTOP");
  for (let n = POSTS; performance.now() < deadline; n++) {
    await post(http, n);
    await Bun.sleep(200); // a steady trickle of live posts
  }
  await probing;
  const end = await memory(server.process.pid);
  const blamed = server.logs.filter((line) => line.event === "readiness-changed" && line.ready === false);
  const slow = server.logs.filter((line) => line.event === "slow-client-closed" || line.event === "send-budget-exceeded").length;
  console.log(
    `${entry}: ${REPLAYERS} ${READING ? "reading" : "non-reading"} replays of ${((POSTS * (CHARS + 10)) / 1e6).toFixed(1)} MB: RSS idle ${(idle.resident / MiB).toFixed(0)} MiB, ` +
      `peak ${(end.peak / MiB).toFixed(0)} MiB; /health/ready ${probes.ok} × 200, ${probes.notReady} × not ready (slowest ${probes.maxMs.toFixed(0)} ms); ` +
      `not-ready log lines: ${blamed.map((line) => `${line.reason}: ${line.detail}`).join("; ") || "none"}; slow-client/budget lines: ${slow}; ` +
      `the reader got the live posts: ${reader.inserts.length - POSTS}`,
  );
} finally {
  crowd.kill("SIGKILL");
  reader.close();
}
