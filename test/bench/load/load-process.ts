import type { Subprocess } from "bun";
import type { Collected, LoadReply, LoadRequest, LoadSpec, WriterSpec, Written } from "./protocol.ts";

const repoRoot = new URL("../../../", import.meta.url).pathname;

type Reply<Op extends LoadReply["op"]> = Extract<LoadReply, { op: Op }>;

/** One load process (test/bench/load/load-fixture.ts) seen from the bench: one request at a time. */
export class LoadProcess implements AsyncDisposable {
  #replies: ((reply: LoadReply) => void)[] = [];
  readonly #child: Subprocess;

  constructor() {
    this.#child = Bun.spawn(["bun", "test/bench/load/load-fixture.ts"], {
      cwd: repoRoot,
      // Bun's fetch opens at most 256 connections at once by default: each SSE client holds one.
      env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: "65535" },
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

  connect(url: string, count: number, sampleEvery: number): Promise<Reply<"connected">> {
    return this.#request({ op: "connect", url, count, sampleEvery }, "connected");
  }

  async arm(): Promise<void> {
    await this.#request({ op: "arm" }, "armed");
  }

  async write(writer: WriterSpec, load: LoadSpec): Promise<Written> {
    return (await this.#request({ op: "write", writer, load }, "wrote")).written;
  }

  async collect(perSocket: number, deadline: number, acks: number[]): Promise<Collected> {
    return (await this.#request({ op: "collect", perSocket, deadline, acks }, "collected")).collected;
  }

  async disconnect(): Promise<void> {
    await this.#request({ op: "disconnect" }, "disconnected");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#child.kill("SIGTERM");
    await this.#child.exited;
  }

  async #request<Op extends LoadReply["op"]>(request: LoadRequest, expected: Op): Promise<Reply<Op>> {
    const { promise, resolve } = Promise.withResolvers<LoadReply>();
    this.#replies.push(resolve);
    this.#child.send(request);
    const reply = await promise;
    if (reply.op !== expected) throw new Error(`load process, ${request.op}: ${reply.op === "failed" ? reply.message : reply.op}`);
    return reply as Reply<Op>;
  }
}
