import { type BSON, MongoClientBulkWriteError, MongoError, MongoOperationTimeoutError, MongoServerError } from "mongodb";
import { compareNumbers, describe, numericValue, type Document } from "./bson-values";
import { NOT_SUPPORTED } from "./failures";
import type { ExpectedError } from "./load-spec-files";
import { match, type MatchEntities } from "./match";
import { clientBulkWriteResultDocument } from "./operations/client";
import { toDocument } from "./to-document";

const KNOWN_ASSERTIONS = new Set([
  "isError",
  "isClientError",
  "isTimeoutError",
  "errorContains",
  "errorCode",
  "errorCodeName",
  "errorLabelsContain",
  "errorLabelsOmit",
  "writeErrors",
  "writeConcernErrors",
  "errorResponse",
  "expectResult",
]);

/** Why `error` does not satisfy `expectError`, or null when it does. */
export function checkExpectedError(expected: ExpectedError, error: MongoError | BSON.BSONError, entities: MatchEntities): string | null {
  const unknown = Object.keys(expected).filter((key) => !KNOWN_ASSERTIONS.has(key));
  if (unknown.length > 0) return `expectError ${unknown.join(", ")} ${NOT_SUPPORTED}`;
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
    const mismatch = match(expected.errorResponse, response, { root: true, entities });
    if (mismatch) return `errorResponse mismatch at ${mismatch.path}: ${mismatch.message}`;
  }
  if (expected.expectResult !== undefined) {
    // Only bulk write errors carry a partial result (writeResult, or partialResult for clientBulkWrite).
    const partial =
      error instanceof MongoClientBulkWriteError
        ? error.partialResult && clientBulkWriteResultDocument(error.partialResult)
        : (error as { result?: unknown }).result;
    const mismatch = match(expected.expectResult, toDocument(partial), { root: true, entities });
    if (mismatch) return `expectError.expectResult mismatch at ${mismatch.path}: ${mismatch.message}`;
  }
  return checkBulkWriteErrors(expected, error, entities);
}

/** writeErrors (by model index) and writeConcernErrors (in order) of a clientBulkWrite error, matched as root documents. */
function checkBulkWriteErrors(expected: ExpectedError, error: MongoError | BSON.BSONError, entities: MatchEntities): string | null {
  if (expected.writeErrors === undefined && expected.writeConcernErrors === undefined) return null;
  if (!(error instanceof MongoClientBulkWriteError)) return "expected a clientBulkWrite error with writeErrors/writeConcernErrors";
  if (expected.writeErrors !== undefined) {
    const actual = Object.fromEntries([...error.writeErrors].map(([index, writeError]) => [String(index), { ...writeError }]));
    const extra = Object.keys(actual).filter((index) => !Object.hasOwn(expected.writeErrors as Document, index));
    if (extra.length > 0) return `unexpected writeErrors at index ${extra.join(", ")}: ${describe(actual)}`;
    for (const [index, writeError] of Object.entries(expected.writeErrors)) {
      const mismatch = match(writeError, actual[index], { root: true, entities });
      if (mismatch) return `writeErrors mismatch at ${index}${mismatch.path.slice(1)}: ${mismatch.message}`;
    }
  }
  if (expected.writeConcernErrors !== undefined) {
    const mismatch = match(expected.writeConcernErrors, error.writeConcernErrors, { root: true, elementsAreRoot: true, entities });
    if (mismatch) return `writeConcernErrors mismatch at ${mismatch.path}: ${mismatch.message}`;
  }
  return null;
}

export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const details: Document = { name: error.name, message: error.message };
  if (error instanceof MongoError) {
    details.code = error.code;
    if (error instanceof MongoServerError) details.codeName = error.codeName;
    details.errorLabels = error.errorLabels;
  }
  return describe(details);
}
