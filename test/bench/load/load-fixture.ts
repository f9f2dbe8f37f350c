// A load process of `bun run bench`, driven over IPC by test/bench/load/load-process.ts: the
// bench starts two, one holding the WebSocket clients and one the writer.
import { percentiles } from "./percentiles.ts";
import type { Collected, LoadReply, LoadRequest } from "./protocol.ts";
import { SocketGroup } from "./socket-group.ts";
import { openWriter, runLoad } from "./writer.ts";

const sockets = new SocketGroup();
let armedSockets = 0;
let nextSequence = 0;

async function collect({ perSocket, deadline, acks }: Extract<LoadRequest, { op: "collect" }>): Promise<Collected> {
  const expectedFrames = perSocket * armedSockets;
  const lastFrameAt = await sockets.untilFrames(expectedFrames, deadline);
  const acknowledgedAt = new Map<number, number>();
  for (let k = 0; k < acks.length; k += 2) acknowledgedAt.set(acks[k]!, acks[k + 1]!);
  const latencies: number[] = [];
  const { receipts } = sockets;
  for (let k = 0; k < receipts.length; k += 2) {
    const acknowledged = acknowledgedAt.get(receipts[k]!);
    if (acknowledged !== undefined) latencies.push(receipts[k + 1]! - acknowledged);
  }
  return {
    sockets: armedSockets,
    expectedFrames,
    frames: sockets.frames,
    lastFrameAt,
    latency: percentiles(latencies),
    closes: sockets.closes,
  };
}

async function handle(request: LoadRequest): Promise<LoadReply> {
  switch (request.op) {
    case "connect": {
      const started = performance.now();
      await sockets.connect(request.url, request.count, request.sampleEvery);
      return { op: "connected", sockets: sockets.open, seconds: (performance.now() - started) / 1000 };
    }
    case "arm":
      sockets.reset();
      armedSockets = sockets.open;
      return { op: "armed" };
    case "write": {
      const writer = await openWriter(request.writer);
      try {
        const written = await runLoad(writer.write, request.load, nextSequence);
        nextSequence += written.written + written.failed;
        return { op: "wrote", written };
      } finally {
        await writer.close();
      }
    }
    case "collect":
      return { op: "collected", collected: await collect(request) };
    case "disconnect":
      sockets.close();
      return { op: "disconnected" };
  }
}

process.on("message", (request: LoadRequest) => {
  handle(request).then(
    (reply) => process.send!(reply),
    (error: unknown) => process.send!({ op: "failed", message: String((error as Error)?.stack ?? error) } satisfies LoadReply),
  );
});
process.on("disconnect", () => process.exit(0));
