/** One server's line in the chart: latency percentiles at each offered rate. */
export type LatencySeries = { label: string; color: string; points: { rate: number; p50: number; p99: number; keptUp: boolean }[] };

const WIDTH = 760;
const HEIGHT = 460;
const MARGIN = { top: 56, right: 210, bottom: 56, left: 70 };
const FLOOR_MS = 0.1; // a log axis has no zero: latencies below this (a frame can beat its ack) are drawn on it

const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const round = (value: number) => Math.round(value * 10) / 10;

/**
 * The SVG chart of `bun run bench`: commit → receipt latency (p50 solid, p99 dashed, log
 * scale) against the offered event rate (log scale), one colour per server; a hollow marker
 * is a rate the server fell behind at.
 */
export function latencyChart(series: LatencySeries[], title: string, subtitle: string): string {
  const rates = series.flatMap((line) => line.points.map((point) => point.rate));
  const latencies = series.flatMap((line) => line.points.flatMap((point) => [point.p50, point.p99])).filter(Number.isFinite);
  const xMin = Math.min(...rates, 50);
  const xMax = Math.max(...rates, 100);
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...latencies, 10)));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (rate: number) => MARGIN.left + (plotWidth * Math.log(rate / xMin)) / Math.log(xMax / xMin);
  const y = (ms: number) => MARGIN.top + plotHeight * (1 - Math.log(Math.max(ms, FLOOR_MS) / FLOOR_MS) / Math.log(yMax / FLOOR_MS));

  const parts: string[] = [];
  parts.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`);
  parts.push(`<text x="${MARGIN.left}" y="24" font-size="16" font-weight="bold">${escapeXml(title)}</text>`);
  parts.push(`<text x="${MARGIN.left}" y="42" font-size="11" fill="#555">${escapeXml(subtitle)}</text>`);

  for (let ms = FLOOR_MS; ms <= yMax * 1.001; ms *= 10) {
    const label = ms >= 1000 ? `${ms / 1000} s` : `${round(ms)} ms`;
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${y(ms)}" y2="${y(ms)}" stroke="#ddd"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${y(ms) + 4}" font-size="11" text-anchor="end">${label}</text>`);
  }
  for (const rate of [...new Set(rates)].sort((a, b) => a - b)) {
    parts.push(`<line x1="${x(rate)}" x2="${x(rate)}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}" stroke="#eee"/>`);
    parts.push(`<text x="${x(rate)}" y="${MARGIN.top + plotHeight + 16}" font-size="11" text-anchor="middle">${rate}</text>`);
  }
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#888"/>`);
  parts.push(
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 14}" font-size="12" text-anchor="middle">offered rate (events/s, log scale)</text>`,
  );
  parts.push(
    `<text transform="translate(18 ${MARGIN.top + plotHeight / 2}) rotate(-90)" font-size="12" text-anchor="middle">commit → receipt (log scale)</text>`,
  );

  series.forEach((line, index) => {
    for (const [percentile, dash] of [
      ["p50", ""],
      ["p99", ' stroke-dasharray="6 4"'],
    ] as const) {
      const points = line.points.filter((point) => Number.isFinite(point[percentile]));
      const path = points.map((point) => `${round(x(point.rate))},${round(y(point[percentile]))}`).join(" ");
      parts.push(`<polyline points="${path}" fill="none" stroke="${line.color}" stroke-width="2"${dash}/>`);
      for (const point of points) {
        const fill = point.keptUp ? line.color : "white";
        parts.push(
          `<circle cx="${round(x(point.rate))}" cy="${round(y(point[percentile]))}" r="3.5" fill="${fill}" stroke="${line.color}"/>`,
        );
      }
    }
    const legendY = MARGIN.top + 12 + index * 22;
    const legendX = MARGIN.left + plotWidth + 16;
    parts.push(`<line x1="${legendX}" x2="${legendX + 24}" y1="${legendY}" y2="${legendY}" stroke="${line.color}" stroke-width="3"/>`);
    parts.push(`<text x="${legendX + 30}" y="${legendY + 4}" font-size="12">${escapeXml(line.label)}</text>`);
  });
  const notesY = MARGIN.top + 12 + series.length * 22 + 10;
  const notesX = MARGIN.left + plotWidth + 16;
  const notes = ["solid: p50, dashed: p99", "hollow: fell behind", `below ${FLOOR_MS} ms: drawn at ${FLOOR_MS} ms`];
  notes.forEach((note, index) => {
    parts.push(`<text x="${notesX}" y="${notesY + index * 16}" font-size="11" fill="#555">${escapeXml(note)}</text>`);
  });

  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif">\n${parts.join("\n")}\n</svg>\n`;
}
