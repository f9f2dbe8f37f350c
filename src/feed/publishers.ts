import type { Publisher } from "./publisher.ts";

/**
 * Several publishers as one (the WebSockets, the event streams): each frame goes to all of
 * them in the same synchronous step, so the history-then-publish rule holds for every transport.
 */
export class Publishers implements Publisher {
  readonly #all: readonly Publisher[];

  constructor(...all: Publisher[]) {
    this.#all = all;
  }

  publish(topic: string, frame: string, position?: string): number {
    let reached = 0;
    for (const publisher of this.#all) reached += publisher.publish(topic, frame, position);
    return reached;
  }

  ready(): Promise<void> | undefined {
    const waits = this.#all.flatMap((publisher) => publisher.ready?.() ?? []);
    if (waits.length === 0) return undefined;
    return waits.length === 1 ? waits[0] : Promise.all(waits).then(() => undefined);
  }
}
