// A Prometheus text-format parser (parse-prometheus-text-format, untyped) with the types a test needs.
// @ts-expect-error: the package ships no type declarations
import parse from "parse-prometheus-text-format";

export type MetricFamily = {
  name: string;
  help: string;
  type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
  metrics: { value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }[];
};

/**
 * Scrapes `GET /metrics` and parses it (the parser throws on any line that is not valid text
 * format). The parser folds the series of a labelled histogram into one, so each histogram's
 * `_count` samples are also parsed on their own, as untyped families named `<histogram>_count`.
 */
export async function scrape(http: string): Promise<Map<string, MetricFamily>> {
  const response = await fetch(`${http}/metrics`);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  if (!response.headers.get("content-type")?.startsWith("text/plain")) throw new Error("/metrics is not text/plain");
  const text = await response.text();
  const families = parse(text) as MetricFamily[];
  const histogramCounts = parse(
    `${text
      .split("\n")
      .filter((line) => /^\w+_count[{ ]/.test(line))
      .join("\n")}\n`,
  ) as MetricFamily[];
  return new Map(
    [...families, ...histogramCounts.filter((family) => !families.some((other) => other.name === family.name))].map((family) => [
      family.name,
      family,
    ]),
  );
}

/** The value of one series (labels matched exactly; a missing series is 0); a histogram's is its count. */
export function seriesValue(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name)?.type === "HISTOGRAM" ? families.get(`${name}_count`) : families.get(name);
  const wanted = Object.entries(labels);
  const series = family?.metrics.find((metric) => {
    const own = Object.entries(metric.labels ?? {});
    return own.length === wanted.length && wanted.every(([label, value]) => metric.labels?.[label] === value);
  });
  return series ? Number(series.value ?? series.count) : 0;
}
