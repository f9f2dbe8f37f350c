// The messages between `bun run bench` and its load processes (test/bench/load/load-fixture.ts):
// one holds the WebSocket clients, another the writer, so none shares the measured server's CPU
// and the writer keeps its pace however busy the clients are.

/** How posts are written: POSTed to a server, or inserted straight into MongoDB with the driver. */
export type WriterSpec = { kind: "post"; url: string } | { kind: "insert"; uri: string };

/** `flood`: `inFlight` writers back to back for `seconds`; `paced`: write n is due at n / rate s (open loop, at most `maxInFlight` pending). */
export type LoadSpec =
  | { kind: "flood"; inFlight: number; seconds: number }
  | { kind: "paced"; rate: number; seconds: number; maxInFlight: number };

export type LoadRequest =
  /** Opens `count` more sockets; every `sampleEvery`-th one also notes when each frame arrived. */
  | { op: "connect"; url: string; count: number; sampleEvery: number }
  /** Starts a new count of frames and receipts. */
  | { op: "arm" }
  | { op: "write"; writer: WriterSpec; load: LoadSpec }
  /** Waits until the sockets open at `arm` have `perSocket` frames each, or `deadline`; latency against `acks`. */
  | { op: "collect"; perSocket: number; deadline: number; acks: number[] }
  | { op: "disconnect" };

export type Percentiles = { p50: number; p99: number; max: number; samples: number; negative: number };

export type Written = {
  /** Writes acknowledged as done (201, or the insert's acknowledgement). */
  written: number;
  failed: number;
  firstAt: number;
  lastAckAt: number;
  /** Flat: sequence, acknowledged at, sequence, acknowledged at, ... */
  acks: number[];
};

export type Collected = {
  sockets: number;
  expectedFrames: number;
  frames: number;
  /** When the last expected frame arrived; undefined when the deadline came first. */
  lastFrameAt: number | undefined;
  /** From each write's acknowledgement to its frame's receipt on a sampled socket, in ms. */
  latency: Percentiles;
  /** Sockets closed by the server (or dropped) since `arm`. */
  closes: number;
};

export type LoadReply =
  | { op: "connected"; sockets: number; seconds: number }
  | { op: "armed" }
  | { op: "wrote"; written: Written }
  | { op: "collected"; collected: Collected }
  | { op: "disconnected" }
  | { op: "failed"; message: string };

/**
 * The clock of every load process: wall-clock milliseconds at sub-millisecond resolution
 * (performance.timeOrigin + performance.now() agrees across processes on one machine to a
 * few hundredths of a millisecond, measured over IPC), so acknowledgements in the writer and
 * receipts in the clients can be compared.
 */
export const clock = (): number => performance.timeOrigin + performance.now();

/** The marker a post's content carries, so a frame names the write it came from. */
export const SEQUENCE_MARK = "#seq=";

export function benchContent(sequence: number): string {
  return `bench ${SEQUENCE_MARK}${sequence}# ${"x".repeat(200)}`;
}
