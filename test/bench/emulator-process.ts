/** The emulator in a child process of its own, as benchmarks need it (never sharing the measured CPU). */
export async function startEmulatorProcess(): Promise<{ uri: string; pid: number; stop(): Promise<void> }> {
  const child = Bun.spawn(["bun", "test/support/mongo-emulator/main.ts", "--port", "0"], {
    cwd: new URL("../../", import.meta.url).pathname,
    stdout: "pipe",
  });
  const reader = child.stdout.getReader();
  let text = "";
  while (!/mongodb:\/\/\S+/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`emulator exited: ${text}`);
    text += new TextDecoder().decode(value);
  }
  const uri = /mongodb:\/\/\S+/.exec(text)![0];
  return { uri, pid: child.pid, stop: async () => void (child.kill("SIGTERM"), await child.exited) };
}
