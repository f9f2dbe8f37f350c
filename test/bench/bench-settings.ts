// How big `bun run bench` is: the full run, or the short smoke version with BENCH_QUICK=1.
const quick = process.env.BENCH_QUICK === "1";

export const SETTINGS = {
  quick,
  writePath: { clients: 100, inFlight: 64, seconds: quick ? 1 : 5, sampleEvery: 10, drainMs: 15_000 },
  fanout: {
    clients: quick ? 200 : 1_000,
    rates: quick ? [50, 200] : [50, 100, 200, 400, 800, 1_600, 3_200],
    stepSeconds: quick ? 1 : 5,
    sampleEvery: 50,
    /** A server keeps up with a rate when every frame has arrived this long after the last write's acknowledgement. */
    drainMs: 1_000,
    maxInFlight: 256,
  },
  idleMemory: { sockets: quick ? 1_000 : 10_000 },
  soak: { seconds: quick ? 3 : 60, warmUpSeconds: quick ? 1 : 10, rate: 200, clients: 100, sampleEvery: 10 },
  startup: { runs: quick ? 2 : 5 },
  /** Everything stops by itself: the whole run is abandoned after this long. */
  deadlineMs: quick ? 5 * 60_000 : 45 * 60_000,
} as const;
