/**
 * Standalone emulator: `bun run emulator [--port 27017] [--history-limit 100000] [--ttl-monitor-interval-ms 60000]
 * [--members 1|3] [--election-timeout-ms 250] [--replication-delay-ms 0]`.
 * Prints the connection string (every member's host with --members 3) and runs until SIGINT/SIGTERM.
 */
import { parseArgs } from "node:util";
import { startEmulator } from "./index.ts";

const USAGE =
  "usage: bun run emulator [--port <0-65535>] [--history-limit <n>] [--ttl-monitor-interval-ms <ms>] [--members <1|3>] [--election-timeout-ms <ms>] [--replication-delay-ms <ms>]";

function parsePositiveInt(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new Error(`--${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

type Options = {
  port: number;
  historyLimit: number;
  ttlMonitorIntervalMs: number;
  members: 1 | 3;
  electionTimeoutMs: number;
  replicationDelayMs: number;
};

function parseMembers(raw: string | undefined): 1 | 3 {
  if (raw === undefined || raw === "1") return 1;
  if (raw === "3") return 3;
  throw new Error(`--members must be 1 or 3, got "${raw}"`);
}

function readOptions(): Options {
  const { values } = parseArgs({
    args: Bun.argv.slice(2),
    options: {
      port: { type: "string" },
      "history-limit": { type: "string" },
      "ttl-monitor-interval-ms": { type: "string" },
      members: { type: "string" },
      "election-timeout-ms": { type: "string" },
      "replication-delay-ms": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  return {
    port: parsePositiveInt("port", values.port, 27017, 0, 65535),
    historyLimit: parsePositiveInt("history-limit", values["history-limit"], 100_000, 1, 100_000_000),
    ttlMonitorIntervalMs: parsePositiveInt("ttl-monitor-interval-ms", values["ttl-monitor-interval-ms"], 60_000, 10, 86_400_000),
    members: parseMembers(values.members),
    electionTimeoutMs: parsePositiveInt("election-timeout-ms", values["election-timeout-ms"], 250, 1, 3_600_000),
    replicationDelayMs: parsePositiveInt("replication-delay-ms", values["replication-delay-ms"], 0, 0, 3_600_000),
  };
}

let options: Options;
try {
  options = readOptions();
} catch (error) {
  console.error(`mongo-emulator: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
  process.exit(2);
}

const emulator = await startEmulator(options).catch((error: unknown) => {
  const code = (error as { code?: string }).code ?? String(error);
  console.error(`mongo-emulator: cannot listen on 127.0.0.1:${options.port}: ${code}`);
  process.exit(1);
});
console.log(emulator.uri);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await emulator.close();
  process.exit(0);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
