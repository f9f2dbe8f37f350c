import { SETTINGS } from "../bench-settings.ts";
import { type ContenderKey, type Emulator, withContender } from "../contenders.ts";
import { residentBytes } from "../proc-stats.ts";

export type IdleMemoryFigures = { sockets: number; rssBeforeBytes: number; rssAfterBytes: number; bytesPerSocket: number };

const SETTLE_TIMEOUT_MS = 5_000;

/** RSS once two samples 250 ms apart are within 0.5% of each other (or after 5 s). */
async function settledRss(pid: number): Promise<number> {
  const end = performance.now() + SETTLE_TIMEOUT_MS;
  let last = await residentBytes(pid);
  while (performance.now() < end) {
    await Bun.sleep(250);
    const now = await residentBytes(pid);
    if (Math.abs(now - last) <= last * 0.005) return now;
    last = now;
  }
  return last;
}

/**
 * Scenario 3, idle memory per socket: the server's RSS with 10 warm sockets (a few posts
 * sent through them), then with 10,000 more idle ones; the difference per socket.
 */
export async function measureIdleMemory(key: ContenderKey, emulator: Emulator): Promise<IdleMemoryFigures> {
  const { sockets } = SETTINGS.idleMemory;
  return withContender(key, emulator, `bench_idle_${key}`, async ({ load, ws, postWriter, pids }) => {
    await load.connect(ws, 10, 1);
    await load.run(postWriter, { kind: "paced", rate: 50, seconds: 0.5, maxInFlight: 8 }, 10_000, pids);
    const rssBeforeBytes = await settledRss(pids.server);
    const opened = await load.connect(ws, sockets, sockets + 1);
    if (opened.sockets !== sockets + 10) throw new Error(`only ${opened.sockets - 10} of ${sockets} sockets are open`);
    const rssAfterBytes = await settledRss(pids.server);
    return { sockets, rssBeforeBytes, rssAfterBytes, bytesPerSocket: (rssAfterBytes - rssBeforeBytes) / sockets };
  });
}
