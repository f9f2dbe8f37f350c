/** Auth frames one socket may send at once, and per minute after that. */
export const REFRESH_BURST = 5;
export const REFRESHES_PER_MINUTE = 5;

/** What a socket remembers between its auth frames: a token bucket and the last token it was told about. */
export type RefreshState = { tokens: number; updatedAt: number; lastTokenHash?: bigint | number };

/**
 * A token bucket per socket for in-band auth frames: checking a token costs a signature
 * (and maybe a key fetch), so a socket may ask a few times a minute, not as fast as it can
 * send. Every auth frame counts, even one answered without a check.
 */
export function takeRefresh(state: RefreshState | undefined, now: number): { allowed: boolean; state: RefreshState } {
  const next = state ?? { tokens: REFRESH_BURST, updatedAt: now };
  next.tokens = Math.min(REFRESH_BURST, next.tokens + ((now - next.updatedAt) * REFRESHES_PER_MINUTE) / 60_000);
  next.updatedAt = now;
  if (next.tokens < 1) return { allowed: false, state: next };
  next.tokens -= 1;
  return { allowed: true, state: next };
}

/** A token is remembered by its hash (never kept whole): a match only repeats an answer already given. */
export const tokenHash = (token: string): bigint | number => Bun.hash(token);
