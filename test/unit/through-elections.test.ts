// A POST outlasts an election: refusals before anything was sent are tried again until the
// deadline; a write that may have been applied is never sent again by us (the driver's one retry is MongoDB-deduplicated).
import { expect, test } from "bun:test";
import { MongoServerError, MongoServerSelectionError } from "mongodb";
import { Deadline, DeadlineExceeded } from "../../src/mongo/deadline.ts";
import { throughElections } from "../../src/mongo/through-elections.ts";
import { WriteOutcomeUnknown } from "../../src/mongo/write-outcome.ts";

const noPrimary = () => new MongoServerSelectionError("Server selection timed out: no primary", {} as never);

test("tries again after a failed server selection, until MongoDB takes the write", async () => {
  using deadline = new Deadline(5_000);
  let attempts = 0;
  const result = await throughElections(async () => {
    attempts++;
    if (attempts < 3) throw noPrimary();
    return "stored";
  }, deadline.signal);
  expect(result).toBe("stored");
  expect(attempts).toBe(3);
});

test("passes an unknown outcome on at once: only the driver's deduplicated retry may send it again", async () => {
  using deadline = new Deadline(5_000);
  let attempts = 0;
  const unknown = new WriteOutcomeUnknown("0123456789abcdef01234567", "stored", new Error("connection closed"));
  const outcome = throughElections(async () => {
    attempts++;
    throw unknown;
  }, deadline.signal);
  expect(outcome).rejects.toBe(unknown);
  await outcome.catch(() => {});
  expect(attempts).toBe(1);
});

test("passes the server's own answers on at once", async () => {
  using deadline = new Deadline(5_000);
  let attempts = 0;
  const duplicate = new MongoServerError({ message: "E11000 duplicate key error", code: 11000 });
  const outcome = throughElections(async () => {
    attempts++;
    throw duplicate;
  }, deadline.signal);
  expect(outcome).rejects.toBe(duplicate);
  await outcome.catch(() => {});
  expect(attempts).toBe(1);
});

test("gives up with the last refusal when the deadline passes: certainly not stored", async () => {
  using deadline = new Deadline(300);
  let attempts = 0;
  const outcome = throughElections(async () => {
    attempts++;
    throw noPrimary();
  }, deadline.signal);
  expect(outcome).rejects.toBeInstanceOf(MongoServerSelectionError);
  await outcome.catch(() => {});
  expect(attempts).toBeGreaterThan(1);
  expect(deadline.signal.reason).toBeInstanceOf(DeadlineExceeded);
});
