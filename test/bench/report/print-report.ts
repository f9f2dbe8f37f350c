import { CONTENDERS, type ContenderKey } from "../contenders.ts";
import { type BenchResults, checkTargets, stepAt } from "./results.ts";

function table(title: string, header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
  return [`\n${title}`, line(header), widths.map((width) => "-".repeat(width)).join("  "), ...rows.map(line)].join("\n");
}

const number = (value: number | undefined, digits = 0) =>
  value === undefined || !Number.isFinite(value)
    ? "n/a"
    : value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const times = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || !b ? "n/a" : `${(a / b).toFixed(2)}×`;
const kib = (bytes: number | undefined) => (bytes === undefined ? "n/a" : `${(bytes / 1024).toFixed(2)} KiB`);
const mib = (bytes: number | undefined) => (bytes === undefined ? "n/a" : `${(bytes / 2 ** 20).toFixed(1)} MiB`);
const percent = (share: number | undefined) => (share === undefined ? "n/a" : `${(share * 100).toFixed(1)}%`);

type Row = string[];

/**
 * A table's rows: each the figure of every contender in `keys`, then this server's ratios to
 * the others (`ratios: false` for figures a ratio says nothing about, such as percentages).
 */
function rows<T>(keys: ContenderKey[], figures: Partial<Record<ContenderKey, T>>) {
  const others = (["ceiling", "node", "feedNoGroupCommit"] as const).filter((key) => keys.includes(key));
  const header = ["", ...keys.map((key) => CONTENDERS[key].label), ...others.map((key) => `vs ${RATIO_LABELS[key]}`)];
  const row = (name: string, value: (figures: T) => number, format: (value: number) => string, ratios = true): Row => {
    const of = (key: ContenderKey) => (figures[key] === undefined ? undefined : value(figures[key]));
    return [
      name,
      ...keys.map((key) => (of(key) === undefined ? "n/a" : format(of(key)!))),
      ...others.map((key) => (ratios ? times(of("feed"), of(key)) : "")),
    ];
  };
  return { header, row };
}

const RATIO_LABELS = { ceiling: "ceiling", node: "Node", feedNoGroupCommit: "group commit off" } as const;
const ALL: ContenderKey[] = ["feed", "feedNoGroupCommit", "node", "ceiling"];
const THREE: ContenderKey[] = ["feed", "node", "ceiling"];
/** The fan-out also runs this server's clients over SSE (GET /feed). */
const FANOUT: ContenderKey[] = ["feed", "feedSse", "node", "ceiling"];
const PROCESSES = ["server", "emulator", "clients", "writer"] as const;

/** The printed report of `bun run bench`: one table per scenario, then the targets. */
export function printReport(results: BenchResults): string {
  const { machine, settings, writePath, fanout, idleMemory, soak, startup } = results;
  const out: string[] = [];
  out.push(`mongo-feed bench, ${machine.date}${settings.quick ? " (BENCH_QUICK: a smoke run, not figures)" : ""}`);
  out.push(
    `machine: ${machine.cores} cores, ${machine.cpuModel}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}; bun ${machine.bun}, node ${machine.node}`,
  );
  if (!results.groupCommitSetting)
    out.push("note: the server does not know POST_GROUP_COMMIT yet: both mongo-feed runs are the same server");

  const w = settings.writePath;
  const write = rows(ALL, writePath);
  out.push(
    table(`1. write path: ${w.clients} clients, ${w.inFlight} POSTs in flight for ${w.seconds} s`, write.header, [
      write.row(
        "POSTs accepted/s",
        (f) => f.acceptedPerSecond,
        (v) => number(v),
      ),
      write.row(
        "frames delivered/s",
        (f) => f.framesPerSecond,
        (v) => number(v),
      ),
      write.row(
        "ack → frame p50 (ms)",
        (f) => f.latency.p50,
        (v) => number(v, 1),
      ),
      write.row(
        "ack → frame p99 (ms)",
        (f) => f.latency.p99,
        (v) => number(v, 1),
      ),
      write.row(
        "server CPU per POST (ms)",
        (f) => f.serverCpuMsPerPost,
        (v) => number(v, 3),
      ),
      write.row(
        "POSTs per insertMany (mean)",
        (f) => f.postsPerInsert ?? Number.NaN,
        (v) => number(v, 1),
        false,
      ),
      ...PROCESSES.map((process) =>
        write.row(
          `cores used: ${process}`,
          (f) => f.coresUsed[process],
          (v) => number(v, 2),
          false,
        ),
      ),
      write.row(
        "every frame delivered",
        (f) => Number(f.complete),
        (v) => (v ? "yes" : "NO"),
        false,
      ),
    ]),
  );

  const f = settings.fanout;
  const stepRows = FANOUT.flatMap((key) =>
    (fanout[key]?.steps ?? []).map((step) => [
      CONTENDERS[key].label,
      number(step.rate),
      number(step.achievedRate),
      number(step.deliveredFramesPerSecond),
      step.keptUp ? "yes" : "NO",
      number(step.latency.p50, 1),
      number(step.latency.p99, 1),
      number(step.serverCpuMsPerThousandFrames, 2),
      PROCESSES.map((process) => step.coresUsed[process])
        .map((cores) => cores.toFixed(2))
        .join(" / "),
      number(step.closes),
    ]),
  );
  out.push(
    table(
      `2. paced fan-out: ${f.clients} clients, ${f.stepSeconds} s per rate, writes inserted with the driver (POSTed to the ceiling)`,
      [
        "",
        "events/s",
        "written/s",
        "frames/s",
        "kept up",
        "p50 ms",
        "p99 ms",
        "CPU ms/1k frames",
        "cores: server / emulator / clients / writer",
        "closed",
      ],
      stepRows,
    ),
  );
  for (const key of FANOUT) if (fanout[key]) out.push(`   ${CONTENDERS[key].label}: ${fanout[key].stoppedBecause}`);
  const at200 = (value: (step: NonNullable<ReturnType<typeof stepAt>>) => number) => (figures: NonNullable<typeof fanout.feed>) => {
    const step = stepAt(figures, 200);
    return step ? value(step) : Number.NaN;
  };
  const paced = rows(FANOUT, fanout);
  out.push(
    table(
      "   summary (saturation: the most frames/s delivered at any rate; only a lower bound for a server that never fell behind)",
      paced.header,
      [
        paced.row(
          "kept up to (events/s)",
          (figures) => figures.keptUpTo ?? Number.NaN,
          (v) => number(v),
        ),
        paced.row(
          "saturation (frames/s)",
          (figures) => figures.saturationFramesPerSecond,
          (v) => number(v),
        ),
        paced.row(
          "fell behind at the last rate",
          (figures) => Number(figures.saturated),
          (v) => (v ? "yes" : "no: ≥"),
          false,
        ),
        paced.row(
          "CPU ms / 1k frames at 200/s",
          at200((step) => step.serverCpuMsPerThousandFrames),
          (v) => number(v, 2),
        ),
        paced.row(
          "p50 ms at 200/s",
          at200((step) => step.latency.p50),
          (v) => number(v, 1),
        ),
        paced.row(
          "p99 ms at 200/s",
          at200((step) => step.latency.p99),
          (v) => number(v, 1),
        ),
      ],
    ),
  );

  const idle = rows(THREE, idleMemory);
  out.push(
    table(`3. idle memory: ${settings.idleMemory.sockets.toLocaleString("en-US")} idle sockets`, idle.header, [
      idle.row("RSS before", (m) => m.rssBeforeBytes, mib),
      idle.row("RSS after", (m) => m.rssAfterBytes, mib),
      idle.row("RSS per socket", (m) => m.bytesPerSocket, kib),
    ]),
  );

  const s = settings.soak;
  const steady = rows(THREE, soak);
  out.push(
    table(
      `4. soak: ${s.rate} POSTs/s for ${s.seconds} s after ${s.warmUpSeconds} s of warm-up, ${s.clients} clients, RSS every second (mongo-feed's FEED_HISTORY_SIZE: ${s.rate * s.warmUpSeconds}, full before the soak)`,
      steady.header,
      [
        steady.row("RSS at start", (m) => m.startBytes, mib),
        steady.row("RSS at end", (m) => m.endBytes, mib),
        steady.row("RSS max", (m) => m.maxBytes, mib),
        steady.row("growth, end vs start", (m) => m.growth, percent, false),
        steady.row("max growth", (m) => m.maxGrowth, percent, false),
        steady.row("growth, second half", (m) => m.secondHalfGrowth, percent, false),
        steady.row(
          "every frame delivered",
          (m) => Number(m.keptUp),
          (v) => (v ? "yes" : "NO"),
          false,
        ),
        steady.row(
          "ack → frame p99 (ms)",
          (m) => m.latency.p99,
          (v) => number(v, 1),
        ),
      ],
    ),
  );

  if (startup) {
    const ms = (figures: typeof startup.binary) => `${number(figures.medianMs)} (${number(figures.minMs)}–${number(figures.maxMs)})`;
    out.push(
      table(
        `5. start → listening (change stream established), ms, median (min–max) of ${startup.binary.runsMs.length}`,
        ["", "ms"],
        [
          ["compiled binary", ms(startup.binary)],
          ["bun src/index.ts", ms(startup.source)],
        ],
      ),
    );
  }

  out.push(
    table(
      "targets of issue 12 (this server, same run)",
      ["target", "measured", "met"],
      checkTargets(results).map((t) => [t.target, t.measured, t.met === undefined ? "n/a" : t.met ? "yes" : "NO"]),
    ),
  );
  for (const error of results.errors) out.push(`error: ${error}`);
  out.push(`\n(${number(results.durationSeconds)} s)`);
  return out.join("\n");
}
