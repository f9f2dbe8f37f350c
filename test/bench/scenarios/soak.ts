import { SETTINGS } from "../bench-settings.ts";
import { type ContenderKey, type Emulator, withContender } from "../contenders.ts";
import type { Percentiles } from "../load/protocol.ts";
import { residentBytes } from "../proc-stats.ts";

export type SoakFigures = {
  /** RSS in bytes, one sample a second from the soak's start. */
  rssSamples: number[];
  startBytes: number;
  endBytes: number;
  maxBytes: number;
  /** end / start - 1 */
  growth: number;
  /** max / start - 1 */
  maxGrowth: number;
  /** end / the sample at half time - 1: the slope once warm. */
  secondHalfGrowth: number;
  posts: number;
  keptUp: boolean;
  latency: Percentiles;
};

/**
 * Scenario 4, the soak: POSTs at a steady 200/s for 60 s with 100 clients, after an
 * unrecorded warm-up at the same rate; the server's RSS sampled every second. The history
 * of this server is a cache that rightly grows until it holds FEED_HISTORY_SIZE events
 * (10,000 by default, 50 s at this rate): here it holds what the warm-up writes, so it is full
 * before the soak starts and what grows after it is not the history.
 */
export async function measureSoak(key: ContenderKey, emulator: Emulator): Promise<SoakFigures> {
  const { seconds, warmUpSeconds, rate, clients, sampleEvery } = SETTINGS.soak;
  const history = { FEED_HISTORY_SIZE: String(rate * warmUpSeconds) };
  return withContender(
    key,
    emulator,
    `bench_soak_${key}`,
    async ({ load, ws, postWriter, pids }) => {
      await load.connect(ws, clients, sampleEvery);
      await load.run(postWriter, { kind: "paced", rate, seconds: warmUpSeconds, maxInFlight: 256 }, 10_000, pids);
      const rssSamples = [await residentBytes(pids.server)];
      let running = true;
      const sampling = (async () => {
        const started = performance.now();
        while (running) {
          await Bun.sleep(started + rssSamples.length * 1000 - performance.now());
          if (running) rssSamples.push(await residentBytes(pids.server));
        }
      })();
      const run = await load.run(postWriter, { kind: "paced", rate, seconds, maxInFlight: 256 }, 10_000, pids).finally(() => {
        running = false;
      });
      await sampling;
      rssSamples.push(await residentBytes(pids.server));
      const startBytes = rssSamples[0]!;
      const endBytes = rssSamples.at(-1)!;
      const half = rssSamples[Math.floor(rssSamples.length / 2)]!;
      const maxBytes = Math.max(...rssSamples);
      return {
        rssSamples,
        startBytes,
        endBytes,
        maxBytes,
        growth: endBytes / startBytes - 1,
        maxGrowth: maxBytes / startBytes - 1,
        secondHalfGrowth: endBytes / half - 1,
        posts: run.written,
        keptUp: run.complete,
        latency: run.latency,
      };
    },
    history,
  );
}
