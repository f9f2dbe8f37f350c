/**
 * Resume tokens: `{_data: "82" + 8-byte big-endian cluster time (t, i) + suffix}` in uppercase hex,
 * the same prefix a real server's KeyString token starts with. The suffix says what kind of
 * position it is, so every stream hands out the identical token for the same event.
 */
import type { Document } from "bson";
import { CommandError } from "./errors.ts";
import type { OpTime } from "./cluster-clock.ts";

/** What a token points at. High-water marks sort before events at the same time. */
export type TokenKind = "highWaterMark" | "event" | "invalidate";

const KIND_SUFFIX: Record<TokenKind, string> = {
  highWaterMark: "2B0004",
  event: "2B0204",
  invalidate: "2B0404",
};

function hex8(n: number): string {
  return n.toString(16).toUpperCase().padStart(8, "0");
}

/** Builds the `_data` string for a position. */
export function encodeResumeToken(time: OpTime, kind: TokenKind): string {
  return `82${hex8(time.t)}${hex8(time.i)}${KIND_SUFFIX[kind]}`;
}

export interface DecodedToken {
  time: OpTime;
  kind: TokenKind;
}

const HEX = /^[0-9A-Fa-f]*$/;
const TOKEN_PATTERN = /^82([0-9A-Fa-f]{8})([0-9A-Fa-f]{8})([0-9A-Fa-f]*)$/;

/** Parses a resume token document, or throws the error a 7.0 server sends for one it cannot read. */
export function decodeResumeToken(token: unknown): DecodedToken {
  const data = typeof token === "object" && token !== null ? (token as Document)._data : undefined;
  if (typeof data !== "string") {
    throw new CommandError(40647, "Bad resume token: _data of missing or of wrong type. Expected string or BinData");
  }
  if (data.length === 0) throw new CommandError(40649, "invalid empty resume token");
  if (!HEX.test(data) || data.length % 2 !== 0) {
    throw new CommandError(9, "resume token string was not a valid hex string");
  }
  const match = TOKEN_PATTERN.exec(data);
  if (!match) {
    throw new CommandError(50811, `KeyString format error: Unknown type: ${parseInt(data.slice(0, 2), 16)}`);
  }
  const suffix = (match[3] ?? "").toUpperCase();
  const kind: TokenKind =
    suffix === KIND_SUFFIX.invalidate ? "invalidate" : suffix === KIND_SUFFIX.highWaterMark ? "highWaterMark" : "event";
  return { time: { t: parseInt(match[1] ?? "0", 16), i: parseInt(match[2] ?? "0", 16) }, kind };
}
