import { EmulatorProcess } from "../support/emulator-process.ts";

/** The emulator in a child process of its own, as benchmarks need it (never sharing the measured CPU). */
export async function startEmulatorProcess(): Promise<{ uri: string; pid: number; stop(): Promise<void> }> {
  const emulator = await EmulatorProcess.start();
  return { uri: emulator.uri, pid: emulator.pid, stop: () => emulator[Symbol.asyncDispose]() };
}

/** CPU time (user + system) a process has used so far, in milliseconds (Linux, from /proc). */
export async function cpuMillis(pid: number): Promise<number> {
  const stat = await Bun.file(`/proc/${pid}/stat`).text();
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of the line)
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}
