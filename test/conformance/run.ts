/**
 * Runs MongoDB's unified-format spec tests (every file in every subfolder of the spec folder,
 * MONGODB_SPEC_DIR or ../shared/mongodb-spec) against MONGODB_URI, or against the in-process
 * emulator when it is unset. Usage: `bun test/conformance/run.ts [filter] [--members N]`, where
 * filter is a substring of a file name or test description and N the emulator's replica set
 * members (also CONFORMANCE_MEMBERS; one by default).
 */
import { MongoClient } from "mongodb";
import {
  isSchemaSupported,
  loadSpecFiles,
  SPEC_DIR,
  SUPPORTED_SCHEMA_VERSION,
  type SpecFile,
  type UnrunnableFile,
} from "./load-spec-files";
import { printSummary, printTestLine } from "./report";
import { parseRunArguments, type RunArguments } from "./run-arguments";
import { readServerInfo, requirementsUnmet, type ServerInfo } from "./run-on-requirements";
import { runTest, type RunEnvironment, type TestResult } from "./run-test";

const TEST_TIMEOUT_MS = 10_000;

interface ServerUnderTest {
  uri: string;
  label: string;
  close(): Promise<void>;
}

async function startServer(members: number | undefined): Promise<ServerUnderTest> {
  const uri = process.env.MONGODB_URI;
  if (uri) return { uri, label: "MONGODB_URI", close: async () => undefined };
  // Loaded lazily so a real server run never depends on the emulator's code.
  const { startEmulator } = await import("mongo-emulator");
  if (members !== undefined && members !== 1 && members !== 3) throw new Error(`the emulator runs 1 or 3 members, not ${members}`);
  const emulator = await startEmulator(members === undefined ? {} : { members });
  const label = "emulator";
  return { uri: emulator.uri, label, close: () => emulator.close() };
}

function selectTests(file: SpecFile, filter: string | undefined): SpecFile["tests"] {
  if (!filter || file.name.includes(filter)) return file.tests;
  return file.tests.filter((test) => test.description.includes(filter));
}

async function runFile(file: SpecFile, filter: string | undefined, env: RunEnvironment): Promise<TestResult[]> {
  const tests = selectTests(file, filter);
  const fileLevel = (status: TestResult["status"], reason: string): TestResult[] =>
    tests.map((test) => ({ file: file.name, description: test.description, status, reason }));
  if (!isSchemaSupported(file.schemaVersion)) {
    const failed = fileLevel("failed", `schemaVersion ${file.schemaVersion} is not supported (runner: ${SUPPORTED_SCHEMA_VERSION})`);
    failed.forEach(printTestLine);
    return failed;
  }
  const unmet = await requirementsUnmet(file.runOnRequirements, env.server);
  if (unmet) return fileLevel("not-applicable", `file: ${unmet}`);
  const results: TestResult[] = [];
  for (const test of tests) {
    const result = await runTest(file, test, env);
    printTestLine(result);
    results.push(result);
  }
  return results;
}

async function main(): Promise<number> {
  let args: RunArguments;
  let files: SpecFile[];
  let unrunnable: UnrunnableFile[];
  try {
    args = parseRunArguments(process.argv.slice(2), process.env.CONFORMANCE_MEMBERS);
    if (args.members !== undefined && process.env.MONGODB_URI) {
      throw new Error("--members sizes the emulator; with MONGODB_URI the deployment decides");
    }
    ({ files, unrunnable } = loadSpecFiles());
  } catch (error) {
    console.error(`✗ ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const { filter } = args;
  const server = await startServer(args.members);
  const internalClient = new MongoClient(server.uri, { serverSelectionTimeoutMS: 10_000 });
  try {
    const info: ServerInfo = await readServerInfo(internalClient, server.uri);
    if (info.topology === "load-balanced") {
      // Client entities would need the single- and multi-mongos load balancer URIs the spec requires.
      throw new Error("load-balanced deployments are not supported by this runner");
    }
    // A 3-member run that quietly ran on one member would prove nothing about topology.
    if (args.members !== undefined && info.members !== args.members) {
      console.error(
        `✗ asked for ${args.members} member(s), the server's hello lists ${info.members} (does this emulator take \`members\`?)`,
      );
      return 1;
    }
    console.log(`Spec tests: ${SPEC_DIR}`);
    const size = info.topology === "replicaset" ? ` of ${info.members} member(s)` : "";
    console.log(`Server (${server.label}): ${info.version.join(".")} ${info.topology}${size} at ${server.uri}\n`);
    const env: RunEnvironment = { uri: server.uri, server: info, internalClient, timeoutMs: TEST_TIMEOUT_MS };
    // A file that cannot be run counts as a failure: adding a suite must never look green by accident.
    const results: TestResult[] = unrunnable
      .filter((file) => !filter || file.name.includes(filter))
      .map((file) => ({
        file: file.name,
        description: "(the whole file)",
        status: "failed",
        reason: `cannot run this file: ${file.reason}`,
      }));
    results.forEach(printTestLine);
    for (const file of files) results.push(...(await runFile(file, filter, env)));
    // A mistyped filter must not look like a green run.
    if (results.length === 0) console.error(`✗ no test matches the filter "${filter}"`);
    printSummary(results);
    return results.length === 0 || results.some((result) => result.status === "failed") ? 1 : 0;
  } finally {
    await internalClient.close().catch(() => undefined);
    await server.close();
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`✗ conformance run aborted: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
}
// Lingering sockets must not keep the process alive after the summary.
process.exit(process.exitCode);
