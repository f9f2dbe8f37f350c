import type { Percentiles } from "./protocol.ts";

/** p50, p99 and max of `values` (nearest rank); NaN when there are none. */
export function percentiles(values: number[]): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const rank = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : Number.NaN);
  return {
    p50: rank(0.5),
    p99: rank(0.99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    samples: sorted.length,
    negative: sorted.filter((value) => value < 0).length,
  };
}
