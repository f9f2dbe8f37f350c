import type { Subprocess } from "bun";

const repoRoot = new URL("../../", import.meta.url).pathname;

/**
 * The MongoDB emulator in a child process, so a test can do to it what happens to a real
 * mongod: pause it (SIGSTOP), resume it, kill it (SIGKILL) and start it again on the same port.
 */
export class EmulatorProcess implements AsyncDisposable {
  private constructor(
    private child: Subprocess<"ignore", "pipe", "inherit">,
    readonly uri: string,
    readonly port: number,
  ) {}

  /** Starts one on `port` (0: a free one) and resolves once it accepts connections. */
  static async start(port = 0): Promise<EmulatorProcess> {
    const child = Bun.spawn(["bun", "packages/mongo-emulator/src/main.ts", "--port", String(port)], {
      cwd: repoRoot,
      stdin: "ignore",
      stdout: "pipe",
    });
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!/mongodb:\/\/\S+/.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the emulator exited before listening: ${text}`);
      text += value;
    }
    reader.releaseLock();
    const uri = /mongodb:\/\/\S+/.exec(text)![0];
    return new EmulatorProcess(child, uri, Number(new URL(uri).port));
  }

  /** The process id, for reading its CPU time or memory from /proc. */
  get pid(): number {
    return this.child.pid;
  }

  pause(): void {
    this.child.kill("SIGSTOP");
  }

  resume(): void {
    this.child.kill("SIGCONT");
  }

  /** SIGKILL: no goodbye to any client, every connection reset. */
  async kill(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.child.exited;
  }

  /** A new emulator process on the same port (its data starts empty, like a fresh mongod). */
  async restart(): Promise<void> {
    const next = await EmulatorProcess.start(this.port);
    this.child = next.child;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.child.kill("SIGCONT");
    this.child.kill("SIGKILL");
    await this.child.exited;
  }
}
