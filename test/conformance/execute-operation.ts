import { BSON, Collection, MongoError } from "mongodb";
import { describe } from "./bson-values";
import { checkExpectedError, describeError } from "./expected-error";
import { AssertionFailure } from "./failures";
import type { Operation } from "./load-spec-files";
import { match } from "./match";
import { ITERABLE_RESULTS, runOperation, type OperationContext } from "./operations/index";
import { toDocument } from "./to-document";

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
    const problem = checkExpectedError(operation.expectError, error as MongoError | BSON.BSONError, ctx.entities);
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
