import { MongoServerError, type MongoClient } from "mongodb";
import { describe as show } from "./bson-values";
import { createEntities, EntityMap } from "./entities";
import { TIMED_OUT, withDeadline } from "./deadline";
import { findExclusion } from "./excluded-tests";
import { NOT_SUPPORTED } from "./failures";
import { executeOperation } from "./execute-operation";
import { checkExpectedEvents } from "./expected-events";
import { checkExpectedLogMessages } from "./log-messages";
import { match } from "./match";
import type { FailPointRecord, OperationContext } from "./operations/index";
import { requirementsUnmet, type ServerInfo } from "./run-on-requirements";
import type { CollectionData, SpecFile, TestCase } from "./load-spec-files";

export type TestStatus = "passed" | "failed" | "not-applicable" | "skipped" | "excluded";

export interface TestResult {
  file: string;
  description: string;
  status: TestStatus;
  /** Why it failed, was skipped, excluded or not applicable. */
  reason?: string;
}

export interface RunEnvironment {
  uri: string;
  server: ServerInfo;
  /** For initialData, outcome and turning fail points off; never observed. */
  internalClient: MongoClient;
  timeoutMs: number;
}

const MAJORITY = { w: "majority" } as const;
const NAMESPACE_NOT_FOUND = 26;

/** Runs one test of a file whose own runOnRequirements are already met. */
export async function runTest(file: SpecFile, test: TestCase, env: RunEnvironment): Promise<TestResult> {
  const result = (status: TestStatus, reason?: string): TestResult => ({ file: file.name, description: test.description, status, reason });
  if (test.skipReason !== undefined) return result("skipped", test.skipReason);
  const unmet = await requirementsUnmet(test.runOnRequirements, env.server);
  if (unmet) return result("not-applicable", unmet);
  // Only applicable tests can be excluded; they are reported, never dropped silently.
  const exclusion = findExclusion(file.name, test.description);
  if (exclusion) return result("excluded", exclusion);

  // Assertions the runner would silently drop make the test fail instead.
  if (test.expectTracingMessages !== undefined) return result("failed", `expectTracingMessages ${NOT_SUPPORTED}`);
  const failure = await runTestBody(file, test, env);
  return failure === null ? result("passed") : result("failed", failure);
}

/** Executes a test and returns the failure message, or null when every assertion held. */
async function runTestBody(file: SpecFile, test: TestCase, env: RunEnvironment): Promise<string | null> {
  const entities = new EntityMap();
  const failPoints: FailPointRecord[] = [];
  const ctx: OperationContext = {
    entities,
    failPoints,
    env,
    execute: (operation, options) => executeOperation(operation, ctx, options),
  };
  let step = "initialData";
  const body = (async () => {
    await setUpInitialData(file.initialData ?? [], env.internalClient);
    step = "createEntities";
    await createEntities(file.createEntities ?? [], entities, env);
    for (const [index, operation] of test.operations.entries()) {
      step = `operation #${index} ${operation.name} on ${operation.object}`;
      await executeOperation(operation, ctx);
    }
  })();
  let failure: string | null = null;
  const timedOut = (what: string) => `${what}: timed out after ${env.timeoutMs / 1000}s`;
  try {
    if ((await withDeadline(body, env.timeoutMs)) === TIMED_OUT) failure = timedOut(step);
  } catch (error) {
    failure = `${step}: ${messageOf(error)}`;
  }
  // A thread's failed assertion fails the test even when no waitForThread awaited it.
  if (failure === null) failure = await threadFailure(entities, env.timeoutMs);
  for (const [, client] of entities.clients()) {
    client.events.stop();
    client.logs?.stop();
  }
  // Fail points go off before the outcome is read, so they cannot hit the internal client.
  const cleanupProblem = await turnOffFailPoints(failPoints, env.internalClient);
  // An open transaction of a failed test must not block the next one.
  if (failure !== null) await killAllSessions(env.internalClient);
  try {
    failure ??= checkEvents(test, entities);
    if (failure === null) {
      const outcome = await withDeadline(checkOutcome(test.outcome ?? [], env.internalClient), env.timeoutMs);
      failure = outcome === TIMED_OUT ? timedOut("outcome") : outcome;
    }
  } catch (error) {
    failure ??= `expectEvents/outcome: ${messageOf(error)}`;
  }
  // A wedged connection must not stall the whole run.
  const closed = await withDeadline(entities.closeAll(), env.timeoutMs);
  return failure ?? cleanupProblem ?? (closed === TIMED_OUT ? timedOut("closing entities") : null);
}

async function threadFailure(entities: EntityMap, timeoutMs: number): Promise<string | null> {
  const finished = await withDeadline(Promise.allSettled(entities.threads().map((thread) => thread.finish())), timeoutMs);
  if (finished === TIMED_OUT) return `threads: still running after ${timeoutMs / 1000}s`;
  const failed = finished.find((result) => result.status === "rejected");
  return failed ? `thread: ${messageOf(failed.reason)}` : null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** "Terminating Open Transactions": errors are ignored (a server may refuse it). */
async function killAllSessions(client: MongoClient): Promise<void> {
  await client
    .db("admin")
    .command({ killAllSessions: [] })
    .catch(() => undefined);
}

async function setUpInitialData(collections: CollectionData[], client: MongoClient): Promise<void> {
  for (const data of collections) {
    const db = client.db(data.databaseName);
    await db.command({ drop: data.collectionName, writeConcern: MAJORITY }).catch((error: unknown) => {
      if (!(error instanceof MongoServerError && error.code === NAMESPACE_NOT_FOUND)) throw error;
    });
    if (data.createOptions !== undefined || data.documents.length === 0) {
      await db.command({ create: data.collectionName, ...data.createOptions, writeConcern: MAJORITY });
    }
    if (data.documents.length > 0) {
      await db.collection(data.collectionName).insertMany(data.documents, { writeConcern: MAJORITY });
    }
  }
}

function checkEvents(test: TestCase, entities: EntityMap): string | null {
  for (const expected of test.expectEvents ?? []) {
    const { events, observesEvents } = entities.get(expected.client, "client");
    if (!observesEvents) return `expectEvents[${expected.client}]: the client has no observeEvents`;
    const problem = checkExpectedEvents(expected, events.events, entities);
    if (problem) return problem;
  }
  for (const expected of test.expectLogMessages ?? []) {
    const { logs } = entities.get(expected.client, "client");
    if (!logs) return `expectLogMessages[${expected.client}]: the client has no observeLogMessages`;
    const problem = checkExpectedLogMessages(expected, logs.messages, entities);
    if (problem) return problem;
  }
  return null;
}

/** Collection contents must match exactly (no extra fields at any level; key order free). */
async function checkOutcome(collections: CollectionData[], client: MongoClient): Promise<string | null> {
  for (const data of collections) {
    const documents = await client
      .db(data.databaseName)
      .collection(data.collectionName)
      // promoteValues: false keeps Int32/Long/Double so types are compared exactly.
      .find({}, { sort: { _id: 1 }, readPreference: "primary", readConcern: { level: "local" }, promoteValues: false })
      .toArray();
    const mismatch = match(data.documents, documents, { root: false, exactTypes: true });
    if (mismatch) {
      return `outcome ${data.databaseName}.${data.collectionName} at ${mismatch.path}: ${mismatch.message}\n    actual: ${show(documents)}`;
    }
  }
  return null;
}

/** Through the internal client, or the client opened for a targetedFailPoint (then closed). */
async function turnOffFailPoints(failPoints: FailPointRecord[], internalClient: MongoClient): Promise<string | null> {
  let problem: string | null = null;
  for (const { name, client, closeAfter } of failPoints) {
    try {
      await (closeAfter ? client : internalClient).db("admin").command({ configureFailPoint: name, mode: "off" });
    } catch (error) {
      problem ??= `could not turn fail point ${name} off: ${messageOf(error)}`;
    }
    if (closeAfter) await client.close(true).catch(() => undefined);
  }
  return problem;
}
