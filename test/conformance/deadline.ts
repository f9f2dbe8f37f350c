export const TIMED_OUT = Symbol("timed out");

/** `work`'s value, or TIMED_OUT once `ms` pass first; rethrows its error. */
export async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  // Once timed out, the abandoned work fails when its client closes; nobody awaits it then.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** `work`'s value, or an error naming `what` once `ms` pass first. */
export async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  const result = await withDeadline(work, ms);
  if (result === TIMED_OUT) throw new Error(`${what}: not satisfied after ${ms / 1000}s`);
  return result;
}
