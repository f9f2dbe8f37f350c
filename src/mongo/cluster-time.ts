import type { Timestamp } from "mongodb";

/** A cluster time as one comparable number: seconds in the high 32 bits, increment in the low. */
export function timestampToBigInt(timestamp: Timestamp): bigint {
  return (BigInt(timestamp.t) << 32n) | BigInt(timestamp.i);
}
