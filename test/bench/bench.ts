// `bun run bench` (BENCH_QUICK=1 for a short smoke run): this server against the Node reference
// (test/bench/node-reference/) and the bare Bun ceiling (publish-baseline-fixture.ts), in one run
// on one emulator, with clients and writer in a load process of their own. Prints a table of
// figures and ratios, writes test-artifacts/bench/results.json and latency.svg. Loopback only;
// bounded in count and time (SETTINGS), and abandoned whole after SETTINGS.deadlineMs.
import { mkdir } from "node:fs/promises";
import { SETTINGS } from "./bench-settings.ts";
import { CONTENDERS, type ContenderKey, killContenders } from "./contenders.ts";
import { startEmulatorProcess } from "./emulator-process.ts";
import { describeMachine } from "./proc-stats.ts";
import { latencyChart } from "./report/latency-chart.ts";
import { printReport } from "./report/print-report.ts";
import type { BenchResults } from "./report/results.ts";
import { measureIdleMemory } from "./scenarios/idle-memory.ts";
import { measureFanout } from "./scenarios/paced-fanout.ts";
import { measureSoak } from "./scenarios/soak.ts";
import { measureStartup } from "./scenarios/startup.ts";
import { measureWritePath } from "./scenarios/write-path.ts";

const OUTPUT = new URL("../../test-artifacts/bench/", import.meta.url).pathname;
const COLORS: Partial<Record<ContenderKey, string>> = { feed: "#1f5fbf", feedSse: "#8a4fbf", node: "#c83232", ceiling: "#2a9d3a" };
const started = performance.now();

const machine = await describeMachine();
console.log(`mongo-feed bench on ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.date}`);
const help = await Bun.$`bun src/index.ts --help`
  .cwd(new URL("../../", import.meta.url).pathname)
  .nothrow()
  .quiet();
const results: BenchResults = {
  machine,
  settings: SETTINGS,
  groupCommitSetting: help.stdout.toString().includes("POST_GROUP_COMMIT"),
  writePath: {},
  fanout: {},
  idleMemory: {},
  soak: {},
  errors: [],
  durationSeconds: 0,
};

const emulator = await startEmulatorProcess();
const deadline = setTimeout(async () => {
  console.error(`bench: still running after ${SETTINGS.deadlineMs / 60_000} min; stopping everything`);
  killContenders();
  await emulator.stop();
  process.exit(1);
}, SETTINGS.deadlineMs);

/** Runs one measurement; a failure is reported and the run goes on. */
async function attempt<T>(what: string, measure: () => Promise<T>): Promise<T | undefined> {
  const at = performance.now();
  process.stdout.write(`  ${what} ... `);
  try {
    const figures = await measure();
    console.log(`${((performance.now() - at) / 1000).toFixed(1)} s`);
    return figures;
  } catch (error) {
    console.log("failed");
    results.errors.push(`${what}: ${(error as Error)?.message ?? error}`);
    return undefined;
  }
}

try {
  const all: ContenderKey[] = ["feed", "feedNoGroupCommit", "node", "ceiling"];
  const three: ContenderKey[] = ["feed", "node", "ceiling"];
  for (const key of all)
    results.writePath[key] = await attempt(`write path, ${CONTENDERS[key].label}`, () => measureWritePath(key, emulator));
  for (const key of ["feed", "feedSse", "node", "ceiling"] as const)
    results.fanout[key] = await attempt(`paced fan-out, ${CONTENDERS[key].label}`, () => measureFanout(key, emulator));
  for (const key of three)
    results.idleMemory[key] = await attempt(`idle memory, ${CONTENDERS[key].label}`, () => measureIdleMemory(key, emulator));
  for (const key of three) results.soak[key] = await attempt(`soak, ${CONTENDERS[key].label}`, () => measureSoak(key, emulator));
  results.startup = await attempt("start → listening", () => measureStartup(emulator));
} finally {
  clearTimeout(deadline);
  await emulator.stop();
}
results.durationSeconds = (performance.now() - started) / 1000;

await mkdir(OUTPUT, { recursive: true });
await Bun.write(`${OUTPUT}results.json`, `${JSON.stringify(results, null, 2)}\n`);
const series = (["feed", "feedSse", "node", "ceiling"] as const).flatMap((key) => {
  const figures = results.fanout[key];
  if (!figures) return [];
  const points = figures.steps.map((step) => ({ rate: step.rate, p50: step.latency.p50, p99: step.latency.p99, keptUp: step.keptUp }));
  return [{ label: CONTENDERS[key].label, color: COLORS[key]!, points }];
});
const subtitle = `${SETTINGS.fanout.clients} clients, ${SETTINGS.fanout.stepSeconds} s per rate; ${machine.date.slice(0, 10)}, ${machine.cores} cores (${machine.cpuModel})`;
await Bun.write(`${OUTPUT}latency.svg`, latencyChart(series, "commit → receipt latency against offered rate", subtitle));

console.log(printReport(results));
console.log(`\nfigures: ${OUTPUT}results.json, chart: ${OUTPUT}latency.svg`);
process.exit(results.errors.length ? 1 : 0);
