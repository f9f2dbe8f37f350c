import type { Position } from "../protocol/frames.ts";

/*
 * A position in the feed is the `_data` of a change event's resume token. Its first
 * value is the event's cluster time (KeyString: type byte 0x82 = Timestamp, then the
 * 8-byte big-endian seconds and increment), so positions from any server or instance
 * can be placed in time without asking MongoDB.
 */

const keyStringTimestamp = /^82[0-9a-f]{16}/i;

/** The cluster time of a position as one comparable number, or undefined if it is not a position. */
export function clusterTimeOf(position: string): bigint | undefined {
  return keyStringTimestamp.test(position) ? BigInt(`0x${position.slice(2, 18)}`) : undefined;
}

/** The wall-clock milliseconds of a cluster time (its seconds part). */
export function wallClockMsOf(time: bigint): number {
  return Number(time >> 32n) * 1000;
}

/**
 * The position of a read snapshot: a token holding only a cluster time. `since` with it
 * replays exactly the events committed after the snapshot.
 */
export function snapshotPosition(time: bigint): Position {
  return `82${time.toString(16).toUpperCase().padStart(16, "0")}`;
}

export function isSnapshotPosition(position: string): boolean {
  return position.length === 18 && keyStringTimestamp.test(position);
}
