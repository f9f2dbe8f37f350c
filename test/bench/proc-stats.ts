import os from "node:os";

/** CPU time (user + system) a process has used so far, in milliseconds (Linux, from /proc). */
export async function cpuMillis(pid: number): Promise<number> {
  const stat = await Bun.file(`/proc/${pid}/stat`).text();
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of the line)
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

/** Resident memory of a process in bytes (Linux, VmRSS from /proc). */
export async function residentBytes(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

export type Machine = { date: string; cores: number; cpuModel: string; memoryGiB: number; kernel: string; bun: string; node: string };

/** What the figures were measured on: they are only comparable within one run on one machine. */
export async function describeMachine(): Promise<Machine> {
  const node = await Bun.$`node --version`.nothrow().quiet().text();
  return {
    date: new Date().toISOString(),
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: os.release(),
    bun: Bun.version,
    node: node.trim() || "not found",
  };
}
