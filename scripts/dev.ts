// `bun run dev`: the feed server on the in-memory MongoDB emulator, to try it without MongoDB.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { startEmulator, withDatabase } from "mongo-emulator";

const emulator = await startEmulator({ port: Number(process.env.EMULATOR_PORT ?? 0) });
const mongodbUri = withDatabase(emulator.uri, "social_network");
console.log(`MongoDB EMULATOR (test infrastructure, data lives in memory and is gone on exit): ${mongodbUri}`);

// Its own process group: a terminal's Ctrl-C reaches this script once, and is forwarded once.
const server = spawn("bun", ["src/index.ts", ...process.argv.slice(2)], {
  cwd: new URL("../", import.meta.url).pathname,
  env: { ...process.env, MONGODB_URI: mongodbUri },
  stdio: ["ignore", "pipe", "inherit"],
  detached: true,
});

createInterface({ input: server.stdout }).on("line", (line) => {
  console.log(line);
  try {
    const entry = JSON.parse(line) as { event?: string; http?: string; websocket?: string };
    if (entry.event === "listening") {
      const local = (address = "") => address.replace("//0.0.0.0:", "//localhost:");
      console.log(
        `Feed server: ${local(entry.http)}  (WebSocket ${local(entry.websocket)}), backed by the emulator above. Ctrl-C stops both.`,
      );
    }
  } catch {
    // not a log line; printed as is
  }
});

for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => server.kill(signal));

const code = await new Promise<number>((resolve) => server.on("exit", (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0))));
await emulator.close();
process.exit(code);
