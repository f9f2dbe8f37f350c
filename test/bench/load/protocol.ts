// The messages between `bun run bench` and its load process (test/bench/load/load-fixture.ts),
// which holds the WebSocket clients and the writer, so neither shares the measured server's CPU.

/** How posts are written: POSTed to a server, or inserted straight into MongoDB with the driver. */
export type WriterSpec = { kind: "post"; url: string } | { kind: "insert"; uri: string };

/** `flood`: `inFlight` writers back to back for `seconds`; `paced`: write n is due at n / rate s (open loop, at most `maxInFlight` pending). */
export type LoadSpec =
  | { kind: "flood"; inFlight: number; seconds: number }
  | { kind: "paced"; rate: number; seconds: number; maxInFlight: number };

export type LoadRequest =
  /** Opens `count` sockets; every `sampleEvery`-th one also times its frames for latency. */
  | { op: "connect"; url: string; count: number; sampleEvery: number }
  /** Writes as `load` says, then waits until every open socket has every frame, at most `drainMs` after the last acknowledgement. */
  | { op: "run"; writer: WriterSpec; load: LoadSpec; drainMs: number; pids: { server: number; emulator?: number } }
  | { op: "disconnect" };

export type Percentiles = { p50: number; p99: number; max: number; samples: number; negative: number };

export type RunResult = {
  /** Writes acknowledged as done (201, or the insert's acknowledgement). */
  written: number;
  failed: number;
  /** From the first write to the last acknowledgement. */
  writeSeconds: number;
  sockets: number;
  expectedFrames: number;
  frames: number;
  /** Every open socket received every frame before the drain deadline. */
  complete: boolean;
  /** From the first write to the last frame (complete) or to the deadline. */
  elapsedSeconds: number;
  /** Milliseconds from the write's acknowledgement to its frame's receipt, on the sampled sockets. */
  latency: Percentiles;
  /** Sockets closed by the server (or dropped) during the run. */
  closes: number;
  /** CPU used during the run, in milliseconds, by the server, the emulator and the load process itself. */
  cpuMs: { server: number; emulator: number; load: number };
};

export type LoadReply =
  | { op: "connected"; sockets: number; seconds: number }
  | { op: "ran"; result: RunResult }
  | { op: "disconnected" }
  | { op: "failed"; message: string };

/** The marker a post's content carries, so a frame names the write it came from. */
export const SEQUENCE_MARK = "#seq=";

export function benchContent(sequence: number): string {
  return `bench ${SEQUENCE_MARK}${sequence}# ${"x".repeat(200)}`;
}
