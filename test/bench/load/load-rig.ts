import { cpuMillis } from "../proc-stats.ts";
import { LoadProcess } from "./load-process.ts";
import type { LoadSpec, Percentiles, WriterSpec } from "./protocol.ts";

export type RunResult = {
  written: number;
  failed: number;
  /** From the first write to the last acknowledgement. */
  writeSeconds: number;
  sockets: number;
  expectedFrames: number;
  frames: number;
  /** Every socket open at the start received every frame before the drain deadline. */
  complete: boolean;
  /** From the first write to the last frame (complete) or to the deadline. */
  elapsedSeconds: number;
  /** Milliseconds from the write's acknowledgement to its frame's receipt, on the sampled sockets. */
  latency: Percentiles;
  /** Sockets closed by the server (or dropped) during the run. */
  closes: number;
  /** CPU used during the run, in milliseconds, by each process. */
  cpuMs: { server: number; emulator: number; clients: number; writer: number };
};

/** The processes whose CPU a run reports: the server, and the emulator when the server uses it. */
export type MeasuredPids = { server: number; emulator?: number };

/** The load of a measurement: a process of WebSocket clients and a process that writes. */
export class LoadRig implements AsyncDisposable {
  readonly clients = new LoadProcess();
  readonly writer = new LoadProcess();

  connect(url: string, count: number, sampleEvery: number) {
    return this.clients.connect(url, count, sampleEvery);
  }

  /** Writes as `load` says, then waits until every client has every frame, at most `drainMs` after the last acknowledgement. */
  async run(writer: WriterSpec, load: LoadSpec, drainMs: number, pids: MeasuredPids): Promise<RunResult> {
    const cpu = async () => ({
      server: await cpuMillis(pids.server),
      emulator: pids.emulator ? await cpuMillis(pids.emulator) : 0,
      clients: await cpuMillis(this.clients.pid),
      writer: await cpuMillis(this.writer.pid),
    });
    await this.clients.arm();
    const before = await cpu();
    const written = await this.writer.write(writer, load);
    const collected = await this.clients.collect(written.written, written.lastAckAt + drainMs, written.acks);
    const after = await cpu();
    const endedAt = collected.lastFrameAt ?? written.lastAckAt + drainMs;
    return {
      written: written.written,
      failed: written.failed,
      writeSeconds: (written.lastAckAt - written.firstAt) / 1000,
      sockets: collected.sockets,
      expectedFrames: collected.expectedFrames,
      frames: collected.frames,
      complete: collected.lastFrameAt !== undefined,
      elapsedSeconds: (endedAt - written.firstAt) / 1000,
      latency: collected.latency,
      closes: collected.closes,
      cpuMs: {
        server: after.server - before.server,
        emulator: after.emulator - before.emulator,
        clients: after.clients - before.clients,
        writer: after.writer - before.writer,
      },
    };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.clients[Symbol.asyncDispose]();
    await this.writer[Symbol.asyncDispose]();
  }
}
