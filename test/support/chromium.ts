// Debian's chromium for the browser tests: installed with apt-get when missing (machines are new
// often), never a browser downloaded by a test tool. `bun test/support/chromium.ts` does it from CI.
import { existsSync } from "node:fs";

export const CHROMIUM = "/usr/bin/chromium";

/** Makes sure /usr/bin/chromium exists; throws with apt-get's words if it cannot be installed. */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  const sudo = process.getuid?.() === 0 ? [] : ["sudo"];
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const command of [
    ["apt-get", "update"],
    ["apt-get", "install", "-y", "chromium"],
  ]) {
    const run = Bun.spawnSync([...sudo, ...command], { env, stdout: "pipe", stderr: "pipe" });
    if (run.exitCode !== 0) throw new Error(`${command.join(" ")} failed: ${run.stderr.toString().slice(-2000)}`);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium, but ${CHROMIUM} is missing`);
  return CHROMIUM;
}

if (import.meta.main) {
  console.log(`chromium: ${ensureChromium()}`);
}
