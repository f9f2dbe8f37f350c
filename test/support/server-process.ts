import type { Subprocess } from "bun";
import type { ObservationType } from "../../src/observability/observations.ts";
import { Changes, waitUntil } from "./wait-until.ts";
import { unhandledInChild } from "./child-errors.ts";

const repoRoot = new URL("../../", import.meta.url).pathname;

export type LogLine = { level?: string; msg?: string; event?: string; [key: string]: unknown };

/**
 * The feed server as a real child process (signals, exit codes, the compiled binary).
 * Its JSON log lines are events a test can await.
 */
export class ServerProcess implements AsyncDisposable {
  readonly logs: LogLine[] = [];
  stderr = "";
  readonly exited: Promise<number>;
  #changes = new Changes();

  private constructor(readonly process: Subprocess<"ignore", "pipe", "pipe">) {
    this.exited = process.exited;
    void this.#readLines(process.stdout, (line) => {
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.logs.push({ msg: line });
      }
    });
    void this.#readLines(process.stderr, (line) => (this.stderr += `${line}\n`));
    void this.exited.then(this.#changes.changed);
  }

  /** `bun src/index.ts`, or `command` (e.g. the compiled binary), with settings as environment variables. */
  static spawn(env: Record<string, string>, command: string[] = ["bun", "src/index.ts"], args: string[] = []): ServerProcess {
    const child = Bun.spawn([...command, ...args], {
      cwd: repoRoot,
      env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    return new ServerProcess(child);
  }

  /** Resolves with the first log line matching `predicate`; rejects if the process exits first or after `timeoutMs`. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 15_000, what = "a log line"): Promise<LogLine> {
    return waitUntil(
      this.#changes,
      what,
      () => {
        const line = this.logs.find(predicate);
        if (line) return line;
        if (this.process.exitCode !== null) throw new Error(`server exited (${this.process.exitCode}) first; stderr: ${this.stderr}`);
      },
      { timeoutMs, seen: () => `stderr: ${this.stderr}` },
    );
  }

  /** Resolves with the first log line of observation `event` (the server logs each as a line with its type). */
  waitForEvent(event: ObservationType, predicate: (line: LogLine) => boolean = () => true, timeoutMs?: number): Promise<LogLine> {
    return this.waitForLog((line) => line.event === event && predicate(line), timeoutMs, `a ${event} event`);
  }

  /** Waits for the "listening" event and returns the HTTP base URL and WebSocket URL. */
  async listening(timeoutMs?: number): Promise<{ http: string; ws: string }> {
    const line = await this.waitForEvent("listening", undefined, timeoutMs);
    return { http: String(line.http).replace(/\/$/, ""), ws: String(line.websocket) };
  }

  kill(signal: NodeJS.Signals): void {
    this.process.kill(signal);
  }

  /** Kills the process if it still runs; fails if it ever reported an unhandled rejection or uncaught exception. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.process.exitCode === null) this.process.kill("SIGKILL");
    await this.exited;
    const unhandled = unhandledInChild(this.logs, this.stderr);
    if (unhandled.length > 0) throw new Error(`the server process hit unhandled errors:\n${unhandled.join("\n")}`);
  }

  async #readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of stream) {
      buffered += decoder.decode(chunk, { stream: true });
      for (let newline = buffered.indexOf("\n"); newline >= 0; newline = buffered.indexOf("\n")) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.trim()) onLine(line);
        this.#changes.changed();
      }
    }
    if (buffered.trim()) onLine(buffered);
    this.#changes.changed();
  }
}
