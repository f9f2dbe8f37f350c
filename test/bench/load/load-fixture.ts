// The load process of `bun run bench`: WebSocket clients and a writer in one process (one
// clock for acknowledgements and receipts), driven over IPC by test/bench/load/load-process.ts.
import { cpuMillis } from "../proc-stats.ts";
import { percentiles } from "./percentiles.ts";
import type { LoadReply, LoadRequest, RunResult } from "./protocol.ts";
import { SocketGroup } from "./socket-group.ts";
import { openWriter, runLoad } from "./writer.ts";

const sockets = new SocketGroup();
const acknowledgedAt = new Map<number, number>();
let nextSequence = 0;

const reply = (message: LoadReply) => process.send!(message);

async function run(request: Extract<LoadRequest, { op: "run" }>): Promise<RunResult> {
  const writer = await openWriter(request.writer);
  try {
    const open = sockets.open;
    sockets.reset();
    acknowledgedAt.clear();
    const cpu = async () => ({
      server: await cpuMillis(request.pids.server),
      emulator: request.pids.emulator ? await cpuMillis(request.pids.emulator) : 0,
      load: await cpuMillis(process.pid),
    });
    const cpuBefore = await cpu();
    const first = nextSequence;
    const writes = await runLoad(writer.write, request.load, first, acknowledgedAt);
    nextSequence += writes.written + writes.failed;
    const expectedFrames = writes.written * open;
    const lastFrameAt = await sockets.untilFrames(expectedFrames, writes.lastAckAt + request.drainMs);
    const endedAt = lastFrameAt ?? performance.now();
    const cpuAfter = await cpu();

    const latencies: number[] = [];
    const { receipts } = sockets;
    for (let k = 0; k < receipts.length; k += 2) {
      const acknowledged = acknowledgedAt.get(receipts[k]!);
      if (acknowledged !== undefined) latencies.push(receipts[k + 1]! - acknowledged);
    }
    return {
      written: writes.written,
      failed: writes.failed,
      writeSeconds: (writes.lastAckAt - writes.firstAt) / 1000,
      sockets: open,
      expectedFrames,
      frames: sockets.frames,
      complete: lastFrameAt !== undefined,
      elapsedSeconds: (endedAt - writes.firstAt) / 1000,
      latency: percentiles(latencies),
      closes: sockets.closes,
      cpuMs: {
        server: cpuAfter.server - cpuBefore.server,
        emulator: cpuAfter.emulator - cpuBefore.emulator,
        load: cpuAfter.load - cpuBefore.load,
      },
    };
  } finally {
    await writer.close();
  }
}

async function handle(request: LoadRequest): Promise<LoadReply> {
  switch (request.op) {
    case "connect": {
      const started = performance.now();
      await sockets.connect(request.url, request.count, request.sampleEvery);
      return { op: "connected", sockets: sockets.open, seconds: (performance.now() - started) / 1000 };
    }
    case "run":
      return { op: "ran", result: await run(request) };
    case "disconnect":
      sockets.close();
      return { op: "disconnected" };
  }
}

process.on("message", (request: LoadRequest) => {
  handle(request).then(reply, (error: unknown) => reply({ op: "failed", message: String((error as Error)?.stack ?? error) }));
});
process.on("disconnect", () => process.exit(0));
