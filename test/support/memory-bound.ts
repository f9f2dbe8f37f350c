// Memory bounds a test states for a server process: what the server used at the test's start,
// plus what its configuration lets it take, plus serving the posts. Never an absolute figure,
// which would depend on the machine (its memory sets the default WS_SEND_BUFFER_TOTAL) and on the
// runtime's own baseline, not on what the test defends.

const MiB = 2 ** 20;

/** Bun's send buffers grow by doubling: a queued byte may hold two bytes of memory (the server counts it so, src/feed/sockets.ts). */
export const MEMORY_PER_QUEUED_BYTE = 2;

/**
 * Serving posts, whoever reads them: the change stream's batches, the frames, garbage not yet
 * collected. About 40 MiB for 250 posts of 10,000 characters with a single reader
 * (`BENCH_STALLED=1 bun run bench:stalled`); the rest is slack for a loaded machine.
 */
export const SERVING_MARGIN = 96 * MiB;

/** Resident memory of a process now and at its peak, in bytes (Linux). */
export async function residentMemory(pid: number): Promise<{ resident: number; peak: number }> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  return { resident: kib("VmRSS"), peak: kib("VmHWM") };
}

/** Bytes as MiB for a test's log line. */
export const inMiB = (bytes: number): string => `${(bytes / MiB).toFixed(0)} MiB`;
