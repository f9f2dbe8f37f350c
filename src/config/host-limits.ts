import { readFileSync } from "node:fs";
import { totalmem } from "node:os";

/**
 * What the machine allows this process: facts read once by the entry point and handed to
 * `loadConfig`, so the defaults that depend on them (connection cap, send-buffer budget) are
 * derived in one place and every other file stays free of startup I/O.
 */
export type HostLimits = {
  /** The soft open-file limit (`ulimit -n`), or undefined when it cannot be read. */
  openFiles: number | undefined;
  /** The memory this process may use: its cgroup's limit when there is one, else the machine's. */
  memoryBytes: number;
  memorySource: "cgroup" | "physical";
};

/** Cgroup v1 writes "no limit" as a number near 2^63. */
const UNLIMITED_FROM = 2 ** 60;

/** The soft "Max open files" of /proc/<pid>/limits. */
export function parseOpenFileLimit(limits: string): number | undefined {
  const soft = /^Max open files\s+(\S+)/m.exec(limits)?.[1];
  return soft && /^\d+$/.test(soft) ? Number(soft) : undefined;
}

/** A cgroup memory limit file's value (v2 memory.max or v1 memory.limit_in_bytes); undefined for none. */
export function parseCgroupMemoryLimit(text: string): number | undefined {
  const value = text.trim();
  if (!/^\d+$/.test(value)) return undefined; // v2 writes "max"
  const bytes = Number(value);
  return bytes > 0 && bytes < UNLIMITED_FROM ? bytes : undefined;
}

/** The cgroup memory limit files that may apply to this process, from /proc/self/cgroup. */
export function cgroupMemoryLimitFiles(cgroups: string): string[] {
  const files: string[] = [];
  for (const line of cgroups.split("\n")) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line.trim()) ?? [];
    if (path === undefined) continue;
    if (controllers === "") files.push(`/sys/fs/cgroup${path}/memory.max`.replace("//", "/"), "/sys/fs/cgroup/memory.max");
    if (controllers?.split(",").includes("memory")) {
      files.push(`/sys/fs/cgroup/memory${path}/memory.limit_in_bytes`.replace("//", "/"), "/sys/fs/cgroup/memory/memory.limit_in_bytes");
    }
  }
  return [...new Set(files)];
}

/** Reads the limits (Linux; elsewhere the open-file limit is unknown and memory is the machine's). */
export function readHostLimits(): HostLimits {
  const read = (path: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return undefined;
    }
  };
  const openFiles = parseOpenFileLimit(read("/proc/self/limits") ?? "");
  const physical = totalmem();
  const cgroupLimits = cgroupMemoryLimitFiles(read("/proc/self/cgroup") ?? "").flatMap(
    (file) => parseCgroupMemoryLimit(read(file) ?? "") ?? [],
  );
  const cgroup = cgroupLimits.length > 0 ? Math.min(...cgroupLimits) : undefined;
  return cgroup !== undefined && cgroup < physical
    ? { openFiles, memoryBytes: cgroup, memorySource: "cgroup" }
    : { openFiles, memoryBytes: physical, memorySource: "physical" };
}
