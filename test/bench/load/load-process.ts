import type { Subprocess } from "bun";
import type { LoadReply, LoadRequest, LoadSpec, RunResult, WriterSpec } from "./protocol.ts";

const repoRoot = new URL("../../../", import.meta.url).pathname;

/** The load process (test/bench/load/load-fixture.ts) seen from the bench: one request at a time. */
export class LoadProcess implements AsyncDisposable {
  #replies: ((reply: LoadReply) => void)[] = [];
  readonly #child: Subprocess;

  constructor() {
    this.#child = Bun.spawn(["bun", "test/bench/load/load-fixture.ts"], {
      cwd: repoRoot,
      stdio: ["ignore", "inherit", "inherit"],
      serialization: "json",
      ipc: (reply: LoadReply) => this.#replies.shift()?.(reply),
    });
    void this.#child.exited.then((code) => {
      for (const waiting of this.#replies.splice(0)) waiting({ op: "failed", message: `the load process exited (${code})` });
    });
  }

  get pid(): number {
    return this.#child.pid;
  }

  async connect(url: string, count: number, sampleEvery: number): Promise<{ sockets: number; seconds: number }> {
    const reply = await this.#request({ op: "connect", url, count, sampleEvery });
    if (reply.op !== "connected") throw new Error(`could not open ${count} sockets: ${describe(reply)}`);
    return reply;
  }

  async run(writer: WriterSpec, load: LoadSpec, drainMs: number, pids: { server: number; emulator?: number }): Promise<RunResult> {
    const reply = await this.#request({ op: "run", writer, load, drainMs, pids });
    if (reply.op !== "ran") throw new Error(`the load run failed: ${describe(reply)}`);
    return reply.result;
  }

  async disconnect(): Promise<void> {
    await this.#request({ op: "disconnect" });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#child.kill("SIGTERM");
    await this.#child.exited;
  }

  #request(request: LoadRequest): Promise<LoadReply> {
    const { promise, resolve } = Promise.withResolvers<LoadReply>();
    this.#replies.push(resolve);
    this.#child.send(request);
    return promise;
  }
}

const describe = (reply: LoadReply) => (reply.op === "failed" ? reply.message : reply.op);
