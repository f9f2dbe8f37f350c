// Defends: mongosh works against the three-member emulator as against a real set: rs.status(), rs.conf(), rs.stepDown().
import { expect, test } from "bun:test";
import { startReplicaSet } from "./replica-set-fixture.ts";

const MONGOSH = new URL("../../../node_modules/.bin/mongosh", import.meta.url).pathname;

/** Runs one `--eval` script in mongosh and resolves with its stdout. */
async function mongosh(uri: string, script: string): Promise<string> {
  // Run by bun itself, so the test needs no Node.js on the machine.
  const child = Bun.spawn([process.execPath, MONGOSH, "--quiet", "--norc", uri, "--eval", script], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, MONGOSH_SKIP_NODE_VERSION_CHECK: "1", DO_NOT_TRACK: "1" },
  });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`mongosh exited ${code}: ${stderr}${stdout}`);
  return stdout.trim();
}

test("rs.status() shows one PRIMARY and two SECONDARY; rs.stepDown() makes another member primary", async () => {
  await using emulator = await startReplicaSet();
  const shown = JSON.parse(
    await mongosh(
      emulator.uri,
      `db.getSiblingDB('feed').posts.insertOne({ before: 'stepDown' });
       const replication = db.getSiblingDB('admin').getReplicationInfo();
       const lag = rs.printSecondaryReplicationInfo();
       JSON.stringify({
         states: rs.status().members.map(m => m.stateStr),
         hosts: rs.conf().members.map(m => m.host),
         objects: db.getSiblingDB('feed').stats().objects,
         oplogHasWrites: replication.usedMB > 0 && typeof replication.tLast === 'string',
         lagShown: lag !== undefined,
       })`,
    ),
  );
  expect(shown).toEqual({
    states: ["PRIMARY", "SECONDARY", "SECONDARY"],
    hosts: emulator.members.map((m) => m.host),
    objects: 1,
    oplogHasWrites: true,
    lagShown: true,
  });
  const before = emulator.members.find((m) => m.state === "PRIMARY")!;

  // rs.stepDown() answers once the primary has stepped down; the write then waits for the election.
  const after = JSON.parse(
    await mongosh(
      emulator.uri,
      "const stepped = rs.stepDown().ok; db.getSiblingDB('feed').posts.insertOne({ after: 'stepDown' }); JSON.stringify({ stepped, primary: rs.status().members.find(m => m.stateStr === 'PRIMARY').name })",
    ),
  );
  expect(after.stepped).toBe(1);
  expect(after.primary).not.toBe(before.host);
  expect(emulator.members.find((m) => m.host === after.primary)?.state).toBe("PRIMARY");
}, 30_000);
