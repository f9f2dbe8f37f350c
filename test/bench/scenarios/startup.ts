import { SETTINGS } from "../bench-settings.ts";
import type { Emulator } from "../contenders.ts";
import { ServerProcess } from "../../support/server-process.ts";

export type StartupFigures = { runsMs: number[]; medianMs: number; minMs: number; maxMs: number };

const repoRoot = new URL("../../../", import.meta.url).pathname;

async function timeToListening(command: string[], uri: string): Promise<number> {
  const started = performance.now();
  await using server = ServerProcess.spawn({ MONGODB_URI: uri, LOG_LEVEL: "info" }, command);
  await server.listening(30_000);
  const elapsed = performance.now() - started;
  server.kill("SIGTERM");
  await server.exited;
  return elapsed;
}

const summary = (runsMs: number[]): StartupFigures => {
  const sorted = [...runsMs].sort((a, b) => a - b);
  return { runsMs, medianMs: sorted[Math.floor(sorted.length / 2)]!, minMs: sorted[0]!, maxMs: sorted.at(-1)! };
};

/**
 * Scenario 5, start to listening: from spawning the process to its `listening` event, which
 * the server emits only once its change stream is established; each run on a fresh database.
 * The compiled binary (built here with `bun run build`), and `bun src/index.ts` beside it.
 */
export async function measureStartup(emulator: Emulator): Promise<{ binary: StartupFigures; source: StartupFigures }> {
  const build = await Bun.$`bun run build`.cwd(repoRoot).nothrow().quiet();
  if (build.exitCode !== 0) throw new Error(`bun run build failed: ${build.stderr}`);
  const binary: number[] = [];
  const source: number[] = [];
  for (let run = 0; run < SETTINGS.startup.runs; run++) {
    const uri = (name: string) => emulator.uri.replace("/?", `/bench_start_${name}_${run}_${Date.now()}?`);
    binary.push(await timeToListening([`${repoRoot}dist/mongo-feed`], uri("binary")));
    source.push(await timeToListening(["bun", "src/index.ts"], uri("source")));
  }
  return { binary: summary(binary), source: summary(source) };
}
