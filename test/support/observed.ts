import type { Observation, ObservationType } from "../../src/observability/observations.ts";

export type ObservationOf<T extends ObservationType> = Extract<Observation, { type: T }>;

/**
 * Everything a server observed about itself, kept in order, and awaitable: tests wait for
 * typed events (never for the wording of a log line, never for time to pass).
 */
export class Observed {
  readonly all: Observation[] = [];
  #watchers = new Set<(observation: Observation) => void>();

  record = (observation: Observation): void => {
    this.all.push(observation);
    for (const watcher of this.#watchers) watcher(observation);
  };

  of<T extends ObservationType>(type: T): ObservationOf<T>[] {
    return this.all.filter((observation): observation is ObservationOf<T> => observation.type === type);
  }

  /** The first observation of `type` matching `predicate`, already seen or yet to come. */
  waitFor<T extends ObservationType>(
    type: T,
    predicate: (observation: ObservationOf<T>) => boolean = () => true,
    timeoutMs = 15_000,
  ): Promise<ObservationOf<T>> {
    const seen = this.of(type).find(predicate);
    return seen ? Promise.resolve(seen) : this.next(type, predicate, timeoutMs);
  }

  /** The first observation of `type` matching `predicate` from now on: call it before causing the event. */
  next<T extends ObservationType>(
    type: T,
    predicate: (observation: ObservationOf<T>) => boolean = () => true,
    timeoutMs = 15_000,
  ): Promise<ObservationOf<T>> {
    const { promise, resolve, reject } = Promise.withResolvers<ObservationOf<T>>();
    const timer = setTimeout(() => {
      this.#watchers.delete(watch);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for a ${type} observation`));
    }, timeoutMs);
    const watch = (observation: Observation) => {
      if (observation.type !== type || !predicate(observation as ObservationOf<T>)) return;
      clearTimeout(timer);
      this.#watchers.delete(watch);
      resolve(observation as ObservationOf<T>);
    };
    this.#watchers.add(watch);
    return promise;
  }
}
