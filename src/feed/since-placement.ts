import type { ResyncReason } from "../protocol/frames.ts";
import type { ChangeFeed } from "./change-feed.ts";
import { clusterTimeOf, wallClockMsOf } from "./position.ts";

/**
 * How far ahead of this machine's clock a position's cluster time may be (clock skew between
 * hosts) and still be waited for; anything further ahead is not a position of this feed.
 */
export const FUTURE_TOLERANCE_MS = 5_000;

/**
 * How long a new connection waits for this instance's stream to reach a position another
 * instance handed out a moment ago (idle getMores return every 250 ms, so a healthy stream is
 * there in well under this). Never longer, whatever the position claims.
 */
export const CATCH_UP_WAIT_MS = 2_000;

/**
 * Whether a connection resuming at `since` must be told `resync` at once, because this
 * instance's stream cannot place it; undefined when the history decides (both transports).
 */
export async function placeSince(
  feed: Pick<ChangeFeed, "streamTime" | "waitForTime">,
  since: string | undefined,
): Promise<ResyncReason | undefined> {
  const time = since === undefined ? undefined : clusterTimeOf(since);
  if (time === undefined || time <= feed.streamTime) return undefined; // the history decides
  if (wallClockMsOf(time) > Date.now() + FUTURE_TOLERANCE_MS) return "position-unknown";
  // A moment ahead: another instance's stream may simply be ahead of this one.
  return (await feed.waitForTime(time, CATCH_UP_WAIT_MS)) ? undefined : "position-unknown";
}
