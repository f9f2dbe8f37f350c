// Defends: the standalone emulator prints its connection string, serves the driver and exits cleanly.
import { expect, test } from "bun:test";
import { MongoClient } from "mongodb";

const MAIN = new URL("./main.ts", import.meta.url).pathname;

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return text.split("\n")[0] ?? "";
}

test("prints its connection string, serves the driver, and exits 0 on SIGTERM", async () => {
  const child = Bun.spawn(["bun", MAIN, "--port", "0"], { stdout: "pipe", stderr: "pipe" });
  const uri = await firstLine(child.stdout);
  expect(uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/\?replicaSet=rs0$/);
  const client = new MongoClient(uri);
  try {
    expect((await client.db("feed").command({ ping: 1 })).ok).toBe(1);
  } finally {
    await client.close();
  }
  child.kill("SIGTERM");
  expect(await child.exited).toBe(0);
});

test("rejects bad flags with a clear message and exit code 2", async () => {
  const child = Bun.spawn(["bun", MAIN, "--port", "http"], { stdout: "pipe", stderr: "pipe" });
  expect(await child.exited).toBe(2);
  expect(await new Response(child.stderr).text()).toContain("--port must be an integer between 0 and 65535");
});

test("--members 3 prints one URI naming the three members, which the driver discovers", async () => {
  const child = Bun.spawn(["bun", MAIN, "--members", "3", "--port", "0"], { stdout: "pipe", stderr: "pipe" });
  const uri = await firstLine(child.stdout);
  expect(uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+\/\?replicaSet=rs0$/);
  const client = new MongoClient(uri);
  try {
    const status = await client.db("admin").command({ replSetGetStatus: 1 });
    expect(status.members.map((m: { stateStr: string }) => m.stateStr)).toEqual(["PRIMARY", "SECONDARY", "SECONDARY"]);
  } finally {
    await client.close();
  }
  child.kill("SIGTERM");
  expect(await child.exited).toBe(0);
});

test("rejects a bad member count, election timeout or replication delay with exit code 2", async () => {
  const cases: [string[], string][] = [
    [["--members", "2"], "--members must be 1 or 3"],
    [["--members", "3", "--election-timeout-ms", "0"], "--election-timeout-ms must be an integer between 1 and 3600000"],
    [["--members", "3", "--replication-delay-ms", "soon"], "--replication-delay-ms must be an integer between 0 and 3600000"],
  ];
  for (const [flags, message] of cases) {
    const child = Bun.spawn(["bun", MAIN, ...flags], { stdout: "pipe", stderr: "pipe" });
    expect(await child.exited).toBe(2);
    expect(await new Response(child.stderr).text()).toContain(message);
  }
});
