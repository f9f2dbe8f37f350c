import { backoffDelay, type BackoffPolicy, sleep } from "../protocol/backoff.ts";
import { isMongoUnavailable } from "./availability.ts";
import { DeadlineExceeded } from "./deadline.ts";
import { WriteOutcomeUnknown } from "./write-outcome.ts";

/** Between attempts: short at first (an election here is often over in under a second), never hammering. */
const ELECTION_BACKOFF: BackoffPolicy = { baseMs: 50, capMs: 1_000 };

/**
 * Runs a write until MongoDB takes it or the request's deadline passes, so a POST outlasts an
 * election instead of failing when its server selection gives up first. Only a write that was
 * certainly not applied is tried again: it was refused before being sent (no primary could be
 * selected, the pool could not give a connection). One that may have been applied is the
 * driver's to retry (its one retry of a retryable write, which MongoDB deduplicates), and its
 * unknown outcome is passed on at once, as is any answer of the server itself.
 */
export async function throughElections<T>(attempt: () => Promise<T>, signal: AbortSignal): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await attempt();
    } catch (error) {
      const refusedForNow = isMongoUnavailable(error) && !(error instanceof WriteOutcomeUnknown) && !(error instanceof DeadlineExceeded);
      if (!refusedForNow || signal.aborted) throw error;
      await sleep(backoffDelay(retry, ELECTION_BACKOFF), signal);
      if (signal.aborted) throw error;
    }
  }
}
