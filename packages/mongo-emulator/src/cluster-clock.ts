/** The cluster time: one Timestamp per write, strictly increasing, `t` = unix seconds. */
import { Timestamp } from "bson";

/** A cluster time as plain numbers (cheap to compare). */
export interface OpTime {
  t: number;
  i: number;
}

/** Negative, zero or positive like a comparator. */
export function compareOpTime(a: OpTime, b: OpTime): number {
  return a.t !== b.t ? a.t - b.t : a.i - b.i;
}

export function toTimestamp(time: OpTime): Timestamp {
  return new Timestamp({ t: time.t, i: time.i });
}

export function fromTimestamp(ts: Timestamp): OpTime {
  return { t: ts.high >>> 0, i: ts.low >>> 0 };
}

/** Hands out strictly increasing cluster times and remembers the latest one. */
export class ClusterClock {
  #last: OpTime;

  constructor() {
    this.#last = { t: Math.floor(Date.now() / 1000), i: 1 };
  }

  /** The latest cluster time handed out (the last write's time). */
  get current(): OpTime {
    return this.#last;
  }

  /** Allocates the next cluster time for a new write. */
  tick(): OpTime {
    const now = Math.floor(Date.now() / 1000);
    const last = this.#last;
    this.#last = now > last.t ? { t: now, i: 1 } : { t: last.t, i: last.i + 1 };
    return this.#last;
  }
}
