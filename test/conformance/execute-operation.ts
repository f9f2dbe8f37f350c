import { BSON, Collection, MongoClientBulkWriteError, MongoError, MongoOperationTimeoutError, MongoServerError } from "mongodb";
import { AssertionFailure } from "./failures";
import { compareNumbers, describe, isBsonWrapper, numericValue, type Document } from "./bson-values";
import { match } from "./match";
import { clientBulkWriteResultDocument } from "./operations/client";
import { ITERABLE_RESULTS, runOperation, type OperationContext } from "./operations/index";
import type { ExpectedError, Operation } from "./load-spec-files";

export { AssertionFailure };

export interface ExecuteOptions {
  /** withTransaction callbacks: the operation's own error reaches the caller even when expected or ignored. */
  propagateErrors?: boolean;
}

/** Runs one operation and asserts its expectResult / expectError; throws on any failure. */
export async function executeOperation(operation: Operation, ctx: OperationContext, options: ExecuteOptions = {}): Promise<void> {
  const outcome = await assertOutcome(operation, ctx);
  if (options.propagateErrors && outcome.failed) throw outcome.error;
}

/** Asserts the operation's result or error; returns the error it raised, if any. */
async function assertOutcome(operation: Operation, ctx: OperationContext): Promise<{ failed: boolean; error?: unknown }> {
  let result: unknown;
  let error: unknown;
  let failed = false;
  try {
    result = await runOperation(operation.name, operation.object, operation.arguments ?? {}, ctx);
  } catch (caught) {
    // Driver and BSON errors are the operation's outcome; any other error is a runner error
    // (unsupported operation, unknown entity) and never satisfies expectError.
    if (!(caught instanceof MongoError || caught instanceof BSON.BSONError)) throw caught;
    error = caught;
    failed = true;
  }
  if (operation.ignoreResultAndError) return { failed, error };

  if (operation.expectError) {
    if (!failed) throw new AssertionFailure(`expected an error, got result ${describe(toDocument(result))}`);
    const problem = checkExpectedError(operation.expectError, error as MongoError | BSON.BSONError, ctx);
    if (problem) throw new AssertionFailure(`${problem}\n    error: ${describeError(error)}`);
    return { failed, error };
  }
  if (failed) throw new AssertionFailure(`unexpected error: ${describeError(error)}`);

  if (operation.expectResult !== undefined) {
    const actual = toDocument(result);
    const mismatch = match(operation.expectResult, actual, {
      root: true,
      elementsAreRoot: ITERABLE_RESULTS.has(operation.name),
      entities: ctx.entities,
    });
    if (mismatch) {
      throw new AssertionFailure(`expectResult mismatch at ${mismatch.path}: ${mismatch.message}\n    actual result: ${describe(actual)}`);
    }
  }
  if (operation.saveResultAsEntity !== undefined) saveResult(operation, result, ctx);
  return { failed };
}

function saveResult(operation: Operation, result: unknown, ctx: OperationContext): void {
  const id = operation.saveResultAsEntity as string;
  if (result === undefined) throw new Error(`${operation.name} returned no result to save as "${id}"`);
  if (operation.name === "createChangeStream") {
    ctx.entities.set(id, { kind: "changeStream", stream: result as never });
  } else if (operation.name === "createFindCursor" || operation.name === "createCommandCursor") {
    ctx.entities.set(id, { kind: "cursor", cursor: result as never });
  } else if (result instanceof Collection) {
    const { client } = ctx.entities.get(operation.object, "database");
    ctx.entities.set(id, { kind: "collection", collection: result, client });
  } else {
    ctx.entities.set(id, { kind: "bson", value: toDocument(result) });
  }
}

/** Driver model objects (e.g. BulkWriteResult) become plain documents of their enumerable fields. */
export function toDocument(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toDocument);
  if (typeof value !== "object" || value === null || isBsonWrapper(value)) return value;
  if (value instanceof Date || value instanceof RegExp || value instanceof Uint8Array || value instanceof Map) return value;
  if (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null) return value;
  return Object.fromEntries(Object.entries(value));
}

function checkExpectedError(expected: ExpectedError, error: MongoError | BSON.BSONError, ctx: OperationContext): string | null {
  const isServerError = error instanceof MongoServerError;
  const labels = error instanceof MongoError ? error.errorLabels : [];
  if (expected.isClientError !== undefined && expected.isClientError === isServerError) {
    return expected.isClientError ? "expected a client-side error, got a server error" : "expected a server error, got a client-side error";
  }
  if (expected.isTimeoutError !== undefined && expected.isTimeoutError !== error instanceof MongoOperationTimeoutError) {
    return expected.isTimeoutError ? "expected a timeout error" : "expected an error other than a timeout";
  }
  if (expected.errorContains !== undefined && !error.message.toLowerCase().includes(expected.errorContains.toLowerCase())) {
    return `expected the error message to contain "${expected.errorContains}"`;
  }
  if (expected.errorCode !== undefined) {
    if (!isServerError) return `expected server error code ${expected.errorCode}, got a client-side error`;
    const code = numericValue(error.code);
    if (code === undefined || compareNumbers(code, expected.errorCode) !== 0) {
      return `expected error code ${expected.errorCode}, got ${String(error.code)}`;
    }
  }
  if (expected.errorCodeName !== undefined) {
    const codeName = isServerError ? (error as MongoServerError).codeName : undefined;
    if (codeName?.toLowerCase() !== expected.errorCodeName.toLowerCase()) {
      return `expected codeName ${expected.errorCodeName}, got ${String(codeName)}`;
    }
  }
  for (const label of expected.errorLabelsContain ?? []) {
    if (!labels.includes(label)) return `expected error label ${label}, labels are [${labels.join(", ")}]`;
  }
  for (const label of expected.errorLabelsOmit ?? []) {
    if (labels.includes(label)) return `expected no error label ${label}, labels are [${labels.join(", ")}]`;
  }
  if (expected.errorResponse !== undefined) {
    const response = isServerError ? (error as MongoServerError).errorResponse : undefined;
    const mismatch = match(expected.errorResponse, response, { root: true, entities: ctx.entities });
    if (mismatch) return `errorResponse mismatch at ${mismatch.path}: ${mismatch.message}`;
  }
  if (expected.expectResult !== undefined) {
    // Only bulk write errors carry a partial result (writeResult, or partialResult for clientBulkWrite).
    const partial =
      error instanceof MongoClientBulkWriteError
        ? error.partialResult && clientBulkWriteResultDocument(error.partialResult)
        : (error as { result?: unknown }).result;
    const mismatch = match(expected.expectResult, toDocument(partial), { root: true, entities: ctx.entities });
    if (mismatch) return `expectError.expectResult mismatch at ${mismatch.path}: ${mismatch.message}`;
  }
  return null;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const details: Document = { name: error.name, message: error.message };
  if (error instanceof MongoError) {
    details.code = error.code;
    if (error instanceof MongoServerError) details.codeName = error.codeName;
    details.errorLabels = error.errorLabels;
  }
  return describe(details);
}
