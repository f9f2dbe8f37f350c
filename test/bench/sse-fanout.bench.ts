// `bun run bench:sse`: issue 18's figure on its own, without the whole `bun run bench`: the paced
// fan-out of scenario 2 (the same clients, pace and measurement) for this server's WebSocket and
// for its Server-Sent Events (GET /feed), in one run on one emulator, at the rates up to 200/s.
// Prints CPU per 1,000 frames and commit → receipt p50/p99 for both, and their ratios.
import { SETTINGS } from "./bench-settings.ts";
import { CONTENDERS, killContenders } from "./contenders.ts";
import { startEmulatorProcess } from "./emulator-process.ts";
import { describeMachine } from "./proc-stats.ts";
import { stepAt } from "./report/results.ts";
import { type FanoutFigures, measureFanout } from "./scenarios/paced-fanout.ts";

const RATE = 200;
const machine = await describeMachine();
console.log(
  `SSE against WebSocket fan-out: ${SETTINGS.fanout.clients} clients, ${SETTINGS.fanout.stepSeconds} s per rate; ${machine.cores} cores (${machine.cpuModel}), ${machine.date}`,
);
const emulator = await startEmulatorProcess();
const deadline = setTimeout(async () => {
  console.error("bench:sse: still running after 10 min; stopping everything");
  killContenders();
  await emulator.stop();
  process.exit(1);
}, 10 * 60_000);

const figures: Partial<Record<"feed" | "feedSse", FanoutFigures>> = {};
try {
  for (const key of ["feed", "feedSse"] as const) {
    process.stdout.write(`  paced fan-out, ${CONTENDERS[key].label} ... `);
    figures[key] = await measureFanout(key, emulator, (rate) => rate <= RATE);
    console.log("done");
  }
} finally {
  clearTimeout(deadline);
  await emulator.stop();
}

const ws = stepAt(figures.feed, RATE);
const sse = stepAt(figures.feedSse, RATE);
const row = (label: string, step: typeof ws) =>
  step
    ? `${label.padEnd(22)} ${String(step.offeredFramesPerSecond / step.rate).padStart(7)} ${step.serverCpuMsPerThousandFrames.toFixed(2).padStart(9)} ${step.latency.p50.toFixed(1).padStart(7)} ${step.latency.p99.toFixed(1).padStart(7)}  ${step.keptUp ? "yes" : "NO"}  ${step.coresUsed.server.toFixed(2)} / ${step.coresUsed.clients.toFixed(2)}`
    : `${label.padEnd(22)} n/a`;
console.log(`\nat ${RATE} events/s          clients  CPU ms/1k   p50 ms  p99 ms  kept up  cores: server / clients`);
console.log(row("WebSocket", ws));
console.log(row("Server-Sent Events", sse));
if (ws && sse) {
  console.log(
    `SSE / WebSocket: CPU ${(sse.serverCpuMsPerThousandFrames / ws.serverCpuMsPerThousandFrames).toFixed(2)}×, p99 ${(sse.latency.p99 / ws.latency.p99).toFixed(2)}× (issue 18: within 2×)`,
  );
}
process.exit(0);
