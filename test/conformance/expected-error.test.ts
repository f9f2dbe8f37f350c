// Defends: expectError assertions hold only for the error the spec describes, and none is dropped unchecked.
import { describe, expect, test } from "bun:test";
import { MongoClientBulkWriteError, MongoServerError } from "mongodb";
import { checkExpectedError } from "./expected-error";
import type { MatchEntities } from "./match";

const noEntities: MatchEntities = { bsonEntity: () => undefined, sessionLsid: () => undefined };
const duplicateKey = new MongoServerError({
  ok: 0,
  code: 11000,
  codeName: "DuplicateKey",
  errmsg: "E11000 duplicate key",
  errorLabels: [],
});

describe("checkExpectedError", () => {
  test("server error code, name, message and labels", () => {
    expect(
      checkExpectedError({ errorCode: 11000, errorCodeName: "duplicatekey", errorContains: "e11000" }, duplicateKey, noEntities),
    ).toBeNull();
    expect(checkExpectedError({ isClientError: true }, duplicateKey, noEntities)).toContain("expected a client-side error");
    expect(checkExpectedError({ errorLabelsContain: ["RetryableWriteError"] }, duplicateKey, noEntities)).toContain("RetryableWriteError");
    expect(checkExpectedError({ isTimeoutError: false }, duplicateKey, noEntities)).toBeNull();
  });

  test("an assertion the runner does not know fails instead of passing unchecked", () => {
    const expected = { isError: true, errorDetails: {} } as Parameters<typeof checkExpectedError>[0];
    expect(checkExpectedError(expected, duplicateKey, noEntities)).toBe("expectError errorDetails is not supported by this runner");
  });

  test("clientBulkWrite writeErrors by index, with no extra index", () => {
    const error = new MongoClientBulkWriteError({ message: "bulk failed" });
    error.writeErrors = new Map([[1, { code: 11000, message: "E11000 duplicate key" }]]);
    expect(checkExpectedError({ writeErrors: { "1": { code: 11000 } } }, error, noEntities)).toBeNull();
    expect(checkExpectedError({ writeErrors: { "0": { code: 11000 } } }, error, noEntities)).toContain("unexpected writeErrors at index 1");
    expect(checkExpectedError({ writeErrors: { "1": { code: 2 } } }, error, noEntities)).toContain("writeErrors mismatch at 1.code");
    expect(checkExpectedError({ writeErrors: {} }, duplicateKey, noEntities)).toContain("expected a clientBulkWrite error");
  });
});
