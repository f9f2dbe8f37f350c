import type { SETTINGS } from "../bench-settings.ts";
import type { ContenderKey } from "../contenders.ts";
import type { Machine } from "../proc-stats.ts";
import type { FanoutFigures, FanoutStep } from "../scenarios/paced-fanout.ts";
import type { IdleMemoryFigures } from "../scenarios/idle-memory.ts";
import type { SoakFigures } from "../scenarios/soak.ts";
import type { StartupFigures } from "../scenarios/startup.ts";
import type { WritePathFigures } from "../scenarios/write-path.ts";

type PerContender<T> = Partial<Record<ContenderKey, T>>;

/** Everything one `bun run bench` measured: written to test-artifacts/bench/results.json. */
export type BenchResults = {
  machine: Machine;
  settings: typeof SETTINGS;
  /** Whether the server knows POST_GROUP_COMMIT (when it does not, both mongo-feed runs are the same server). */
  groupCommitSetting: boolean;
  writePath: PerContender<WritePathFigures>;
  fanout: PerContender<FanoutFigures>;
  idleMemory: PerContender<IdleMemoryFigures>;
  soak: PerContender<SoakFigures>;
  startup?: { binary: StartupFigures; source: StartupFigures };
  /** Measurements that failed (the rest of the run goes on). */
  errors: string[];
  durationSeconds: number;
};

/** The step of a paced fan-out at `rate`, if the server got that far. */
export const stepAt = (figures: FanoutFigures | undefined, rate: number): FanoutStep | undefined =>
  figures?.steps.find((step) => step.rate === rate);

/** A target of issue 12, checked against this run's figures. */
export type TargetCheck = { target: string; measured: string; met: boolean | undefined };

const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : a / b);
const show = (value: number | undefined, digits = 2, unit = "") =>
  value === undefined || !Number.isFinite(value) ? "n/a" : `${value.toFixed(digits)}${unit}`;
const check = (value: number | undefined, ok: (value: number) => boolean) =>
  value === undefined || !Number.isFinite(value) ? undefined : ok(value);

export function checkTargets(results: BenchResults, pacedRate = 200): TargetCheck[] {
  const { writePath, fanout, idleMemory, soak, startup } = results;
  const feedStep = stepAt(fanout.feed, pacedRate);
  const ceilingStep = stepAt(fanout.ceiling, pacedRate);
  const cpuRatio = ratio(feedStep?.serverCpuMsPerThousandFrames, ceilingStep?.serverCpuMsPerThousandFrames);
  const p99Gap = feedStep && ceilingStep ? feedStep.latency.p99 - ceilingStep.latency.p99 : undefined;
  // A saturation figure is only a lower bound for a server that never fell behind: compare limits only.
  const limit = (figures: FanoutFigures | undefined) => (figures?.saturated ? figures.saturationFramesPerSecond : undefined);
  const saturationVsCeiling = ratio(limit(fanout.feed), limit(fanout.ceiling));
  const saturationVsNode = ratio(limit(fanout.feed), limit(fanout.node));
  const postsVsOff = ratio(writePath.feed?.acceptedPerSecond, writePath.feedNoGroupCommit?.acceptedPerSecond);
  const postsVsNode = ratio(writePath.feed?.acceptedPerSecond, writePath.node?.acceptedPerSecond);
  const perSocketKiB = idleMemory.feed ? idleMemory.feed.bytesPerSocket / 1024 : undefined;
  const soakGrowth = soak.feed?.maxGrowth;
  const binaryMs = startup?.binary.medianMs;
  const sseStep = stepAt(fanout.feedSse, pacedRate);
  const sseCpuRatio = ratio(sseStep?.serverCpuMsPerThousandFrames, feedStep?.serverCpuMsPerThousandFrames);
  const sseP99Ratio = ratio(sseStep?.latency.p99, feedStep?.latency.p99);
  return [
    {
      target: `CPU per 1,000 frames at ${pacedRate}/s ≤ 1.10× the ceiling`,
      measured: show(cpuRatio, 2, "×"),
      met: check(cpuRatio, (v) => v <= 1.1),
    },
    {
      target: `commit → receipt p99 at ${pacedRate}/s within 5 ms of the ceiling`,
      measured: show(p99Gap, 1, " ms"),
      met: check(p99Gap, (v) => v <= 5),
    },
    {
      target: "saturation ≥ 0.9× the ceiling",
      measured: show(saturationVsCeiling, 2, "×"),
      met: check(saturationVsCeiling, (v) => v >= 0.9),
    },
    { target: "saturation ≥ 5× the Node reference", measured: show(saturationVsNode, 2, "×"), met: check(saturationVsNode, (v) => v >= 5) },
    { target: "POSTs/s ≥ 3× group commit off", measured: show(postsVsOff, 2, "×"), met: check(postsVsOff, (v) => v >= 3) },
    { target: "POSTs/s ≥ 8× the Node reference", measured: show(postsVsNode, 2, "×"), met: check(postsVsNode, (v) => v >= 8) },
    { target: "≤ 3 KiB RSS per idle socket", measured: show(perSocketKiB, 2, " KiB"), met: check(perSocketKiB, (v) => v <= 3) },
    {
      target: "RSS within 10% over the soak (max growth)",
      measured: show(soakGrowth && soakGrowth * 100, 1, "%"),
      met: check(soakGrowth, (v) => v <= 0.1),
    },
    {
      target: `SSE fan-out: CPU per 1,000 frames at ${pacedRate}/s ≤ 2× the WebSocket's (issue 18)`,
      measured: show(sseCpuRatio, 2, "×"),
      met: check(sseCpuRatio, (v) => v <= 2),
    },
    {
      target: `SSE fan-out: commit → receipt p99 at ${pacedRate}/s ≤ 2× the WebSocket's (issue 18)`,
      measured: show(sseP99Ratio, 2, "×"),
      met: check(sseP99Ratio, (v) => v <= 2),
    },
    {
      target: "compiled binary listening ≤ 300 ms after start (median)",
      measured: show(binaryMs, 0, " ms"),
      met: check(binaryMs, (v) => v <= 300),
    },
  ];
}
