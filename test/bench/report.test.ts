// Defends: what `bun run bench` reports says what was measured: percentiles by nearest rank, a chart whose every point is drawn inside it, and targets judged only on figures that can judge them.
import { describe, expect, test } from "bun:test";
import { SETTINGS } from "./bench-settings.ts";
import { percentiles } from "./load/percentiles.ts";
import type { Machine } from "./proc-stats.ts";
import { latencyChart } from "./report/latency-chart.ts";
import { type BenchResults, checkTargets } from "./report/results.ts";
import type { FanoutFigures, FanoutStep } from "./scenarios/paced-fanout.ts";

describe("percentiles", () => {
  test("are the nearest rank, and count the frames that beat their acknowledgement", () => {
    const values = Array.from({ length: 100 }, (_, n) => 100 - n - 3); // 97 down to -2
    expect(percentiles(values)).toEqual({ p50: 47, p99: 96, max: 97, samples: 100, negative: 2 });
  });

  test("of nothing are not numbers", () => {
    expect(percentiles([])).toEqual({ p50: Number.NaN, p99: Number.NaN, max: Number.NaN, samples: 0, negative: 0 });
  });
});

describe("the latency chart", () => {
  const points = [
    { rate: 50, p50: 2, p99: 9, keptUp: true },
    { rate: 200, p50: -0.3, p99: 40, keptUp: true },
    { rate: 800, p50: 1_700, p99: 3_200, keptUp: false },
  ];
  const svg = latencyChart([{ label: "one <server>", color: "#123456", points }], "title", "subtitle");

  test("draws a p50 and a p99 line with a marker per rate, every point inside the picture", () => {
    const lines = [...svg.matchAll(/<polyline points="([^"]+)"/g)].map((match) => match[1]!.split(" "));
    expect(lines).toHaveLength(2);
    expect(lines.map((line) => line.length)).toEqual([3, 3]);
    for (const [x, y] of lines.flat().map((point) => point.split(",").map(Number))) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(760);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(460);
    }
    expect(svg.match(/<circle /g)).toHaveLength(6);
  });

  test("marks the rate a server fell behind at with hollow markers, and escapes labels", () => {
    expect(svg.match(/<circle [^>]*fill="white"/g)).toHaveLength(2);
    expect(svg).toContain("one &lt;server&gt;");
    expect(svg).not.toContain("<server>");
  });
});

describe("the targets", () => {
  const step = (rate: number, keptUp: boolean, delivered: number): FanoutStep => ({
    rate,
    achievedRate: rate,
    offeredFramesPerSecond: rate * 1000,
    deliveredFramesPerSecond: delivered,
    keptUp,
    latency: percentiles([1, 2, 3]),
    serverCpuMsPerThousandFrames: 4,
    coresUsed: { server: 1, emulator: 0, clients: 1, writer: 0 },
    closes: 0,
  });
  const fanout = (saturated: boolean, delivered: number): FanoutFigures => ({
    steps: [step(200, true, 200_000), step(400, !saturated, delivered)],
    keptUpTo: saturated ? 200 : 400,
    saturationFramesPerSecond: delivered,
    saturated,
    stoppedBecause: "",
  });
  const results = (feed: FanoutFigures, ceiling: FanoutFigures): BenchResults => ({
    machine: {} as Machine,
    settings: SETTINGS,
    groupCommitSetting: true,
    writePath: {},
    fanout: { feed, ceiling },
    idleMemory: {},
    soak: {},
    errors: [],
    durationSeconds: 0,
  });
  const saturation = (figures: BenchResults) => checkTargets(figures).find((check) => check.target === "saturation ≥ 0.9× the ceiling");

  test("compare saturation only between servers that both fell behind", () => {
    expect(saturation(results(fanout(true, 300_000), fanout(true, 400_000)))).toEqual({
      target: "saturation ≥ 0.9× the ceiling",
      measured: "0.75×",
      met: false,
    });
    expect(saturation(results(fanout(true, 300_000), fanout(false, 400_000)))?.met).toBeUndefined();
  });

  test("that were not measured are neither met nor missed", () => {
    const checks = checkTargets(results(fanout(true, 1), fanout(true, 1)));
    expect(checks.find((check) => check.target.startsWith("POSTs/s ≥ 3×"))).toEqual({
      target: "POSTs/s ≥ 3× group commit off",
      measured: "n/a",
      met: undefined,
    });
  });
});
