import { SETTINGS } from "../bench-settings.ts";
import { type ContenderKey, type Emulator, withContender } from "../contenders.ts";
import type { Percentiles } from "../load/protocol.ts";

export type FanoutStep = {
  /** Events per second offered. */
  rate: number;
  /** Writes acknowledged per second (below `rate` when the writer could not keep the pace). */
  achievedRate: number;
  offeredFramesPerSecond: number;
  deliveredFramesPerSecond: number;
  /** Every client had every frame within the drain window after the last write. */
  keptUp: boolean;
  /** Commit (the writer's insert acknowledged) → receipt on a sampled client, in ms. */
  latency: Percentiles;
  serverCpuMsPerThousandFrames: number;
  /** CPU of each process as a share of one core over the step. */
  coresUsed: { server: number; emulator: number; clients: number; writer: number };
  closes: number;
};

export type FanoutFigures = {
  steps: FanoutStep[];
  keptUpTo: number | null;
  /** The most frames per second delivered at any rate. */
  saturationFramesPerSecond: number;
  /** The server fell behind at the last rate: the saturation figure is its limit, not a lower bound. */
  saturated: boolean;
  stoppedBecause: string;
};

/**
 * Scenario 2, paced fan-out: 1,000 clients, events written straight into MongoDB at rising
 * rates (the ceiling, which has no database, gets POSTs at the same pace), a few seconds each,
 * until the server falls behind (or the writer cannot keep the pace).
 */
export async function measureFanout(key: ContenderKey, emulator: Emulator, includeRate = (_rate: number) => true): Promise<FanoutFigures> {
  const { clients, stepSeconds, sampleEvery, drainMs, maxInFlight } = SETTINGS.fanout;
  const rates = SETTINGS.fanout.rates.filter(includeRate);
  return withContender(key, emulator, `bench_fanout_${key}`, async ({ load, feedUrl, directWriter, pids }) => {
    await load.connect(feedUrl, clients, sampleEvery);
    await load.run(directWriter, { kind: "paced", rate: 20, seconds: 1, maxInFlight }, 10_000, pids); // warm-up
    const steps: FanoutStep[] = [];
    let stoppedBecause = "kept up with every rate (its saturation is higher than measured)";
    for (const rate of rates) {
      const run = await load.run(directWriter, { kind: "paced", rate, seconds: stepSeconds, maxInFlight }, drainMs, pids);
      const elapsedMs = run.elapsedSeconds * 1000;
      const step: FanoutStep = {
        rate,
        achievedRate: run.written / run.writeSeconds,
        offeredFramesPerSecond: rate * run.sockets,
        deliveredFramesPerSecond: run.frames / run.elapsedSeconds,
        keptUp: run.complete,
        latency: run.latency,
        serverCpuMsPerThousandFrames: (run.cpuMs.server * 1000) / run.frames,
        coresUsed: {
          server: run.cpuMs.server / elapsedMs,
          emulator: run.cpuMs.emulator / elapsedMs,
          clients: run.cpuMs.clients / elapsedMs,
          writer: run.cpuMs.writer / elapsedMs,
        },
        closes: run.closes,
      };
      steps.push(step);
      if (!step.keptUp) {
        stoppedBecause = `fell behind at ${rate}/s (${run.frames} of ${run.expectedFrames} frames ${drainMs} ms after the last write, ${run.closes} clients closed)`;
        break;
      }
      if (step.achievedRate < rate * 0.9) {
        stoppedBecause = `the writer could not keep ${rate}/s (${step.achievedRate.toFixed(0)}/s acknowledged)`;
        break;
      }
    }
    const kept = steps.filter((step) => step.keptUp && step.achievedRate >= step.rate * 0.9);
    return {
      steps,
      keptUpTo: kept.at(-1)?.rate ?? null,
      saturationFramesPerSecond: Math.max(...steps.map((step) => step.deliveredFramesPerSecond)),
      saturated: steps.at(-1)?.keptUp === false,
      stoppedBecause,
    };
  });
}
