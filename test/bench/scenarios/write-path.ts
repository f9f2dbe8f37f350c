import { SETTINGS } from "../bench-settings.ts";
import { type ContenderKey, type Emulator, withContender } from "../contenders.ts";
import type { Percentiles } from "../load/protocol.ts";
import { scrape } from "../../support/prometheus-text.ts";

export type WritePathFigures = {
  posts: number;
  failed: number;
  acceptedPerSecond: number;
  framesPerSecond: number;
  /** Every client got every frame. */
  complete: boolean;
  /** From each POST's 201 to its frame reaching a sampled client, under the same load. */
  latency: Percentiles;
  serverCpuMsPerPost: number;
  /** POSTs per insertMany during the run, from this server's group-commit histogram (the others have none). */
  postsPerInsert?: number;
  /** CPU of each process as a share of one core, from the first POST to the last frame. */
  coresUsed: { server: number; emulator: number; clients: number; writer: number };
};

/**
 * Scenario 1, the write path: 64 POSTs in flight back to back for a few seconds, with 100
 * clients connected; POSTs accepted per second, frames delivered per second (until every
 * client has every frame) and ack → frame latency measured during that load.
 */
export async function measureWritePath(key: ContenderKey, emulator: Emulator): Promise<WritePathFigures> {
  const { clients, inFlight, seconds, sampleEvery, drainMs } = SETTINGS.writePath;
  return withContender(key, emulator, `bench_write_${key}`, async ({ load, ws, http, postWriter, pids }) => {
    await load.connect(ws, clients, sampleEvery);
    await load.run(postWriter, { kind: "flood", inFlight: 8, seconds: 0.5 }, drainMs, pids); // warm-up
    const before = key === "feed" ? await groupCommits(http) : undefined;
    const run = await load.run(postWriter, { kind: "flood", inFlight, seconds }, drainMs, pids);
    const after = before ? await groupCommits(http) : undefined;
    return {
      posts: run.written,
      failed: run.failed,
      acceptedPerSecond: run.written / run.writeSeconds,
      framesPerSecond: run.frames / run.elapsedSeconds,
      complete: run.complete,
      latency: run.latency,
      serverCpuMsPerPost: run.cpuMs.server / run.written,
      postsPerInsert: before && after ? (after.posts - before.posts) / (after.inserts - before.inserts) : undefined,
      coresUsed: {
        server: run.cpuMs.server / (run.elapsedSeconds * 1000),
        emulator: run.cpuMs.emulator / (run.elapsedSeconds * 1000),
        clients: run.cpuMs.clients / (run.elapsedSeconds * 1000),
        writer: run.cpuMs.writer / (run.elapsedSeconds * 1000),
      },
    };
  });
}

/** This server's group-commit histogram: POSTs inserted, and insertMany commands that did it. */
async function groupCommits(http: string): Promise<{ posts: number; inserts: number }> {
  const histogram = (await scrape(http)).get("mongo_feed_group_commit_size")?.metrics[0];
  return { posts: Number(histogram?.sum ?? 0), inserts: Number(histogram?.count ?? 0) };
}
