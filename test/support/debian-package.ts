import { existsSync } from "node:fs";

/**
 * Makes sure `binary` exists, installing Debian's `pkg` with apt-get when it is missing (machines are
 * new often; never a binary downloaded by a test tool). Throws with apt-get's words if it cannot.
 */
export function ensureDebianPackage(pkg: string, binary: string): string {
  if (existsSync(binary)) return binary;
  const sudo = process.getuid?.() === 0 ? [] : ["sudo"];
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const command of [
    ["apt-get", "update"],
    ["apt-get", "install", "-y", pkg],
  ]) {
    const run = Bun.spawnSync([...sudo, ...command], { env, stdout: "pipe", stderr: "pipe" });
    if (run.exitCode !== 0) throw new Error(`${command.join(" ")} failed: ${run.stderr.toString().slice(-2000)}`);
  }
  if (!existsSync(binary)) throw new Error(`apt-get installed ${pkg}, but ${binary} is missing`);
  return binary;
}
