import type { Observation, ObservationType } from "../../src/observability/observations.ts";
import { Changes, waitUntil } from "./wait-until.ts";

export type ObservationOf<T extends ObservationType> = Extract<Observation, { type: T }>;

/**
 * Everything a server observed about itself, kept in order, and awaitable: tests wait for
 * typed events (never for the wording of a log line, never for time to pass).
 */
export class Observed {
  readonly all: Observation[] = [];
  #changes = new Changes();

  record = (observation: Observation): void => {
    this.all.push(observation);
    this.#changes.changed();
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
    return this.#firstFrom(0, type, predicate, timeoutMs);
  }

  /** The first observation of `type` matching `predicate` from now on: call it before causing the event. */
  next<T extends ObservationType>(
    type: T,
    predicate: (observation: ObservationOf<T>) => boolean = () => true,
    timeoutMs = 15_000,
  ): Promise<ObservationOf<T>> {
    return this.#firstFrom(this.all.length, type, predicate, timeoutMs);
  }

  #firstFrom<T extends ObservationType>(
    start: number,
    type: T,
    predicate: (observation: ObservationOf<T>) => boolean,
    timeoutMs: number,
  ): Promise<ObservationOf<T>> {
    const matches = (observation: Observation): observation is ObservationOf<T> =>
      observation.type === type && predicate(observation as ObservationOf<T>);
    let looked = start;
    return waitUntil(
      this.#changes,
      `a ${type} observation`,
      () => {
        // Each observation is looked at once, in order, as it arrives.
        for (; looked < this.all.length; looked++) {
          const observation = this.all[looked]!;
          if (matches(observation)) return observation;
        }
      },
      { timeoutMs, seen: () => `saw ${this.of(type).length} of that type` },
    );
  }
}
