import { EmulatorProcess } from "../support/emulator-process.ts";

/** The emulator in a child process of its own, as benchmarks need it (never sharing the measured CPU). */
export async function startEmulatorProcess(): Promise<{ uri: string; pid: number; stop(): Promise<void> }> {
  const emulator = await EmulatorProcess.start();
  return { uri: emulator.uri, pid: emulator.pid, stop: () => emulator[Symbol.asyncDispose]() };
}
