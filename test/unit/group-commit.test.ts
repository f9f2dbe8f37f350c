// Defends: group commit's contract with its callers: the inserts of one event-loop turn are written as one batch,
// and each caller still gets its own answer: stored, its own write error (a duplicate key as insertOne would
// throw it), "outcome unknown" under its own id, or the error of a batch that was certainly not written.
// The end-to-end guarantee (real insertMany, fail points) is in test/group-commit.test.ts.
import { expect, test } from "bun:test";
import { type BulkWriteResult, MongoBulkWriteError, MongoServerError, ObjectId, type WriteError } from "mongodb";
import { GroupCommit, type WriteBatch } from "../../src/mongo/group-commit.ts";
import type { StoredPost } from "../../src/mongo/stored-post.ts";
import { WriteOutcomeUnknown } from "../../src/mongo/write-outcome.ts";

const DUPLICATE_KEY = 11000;

const post = (content: string): StoredPost => ({ _id: new ObjectId(), author: "ada", content, createdAt: new Date() });

/** A fake writer: records each batch, and answers it as `answer` says (all stored when it says nothing). */
function fakeWriter(
  answer: (posts: StoredPost[], call: number) => Promise<ReadonlyMap<number, unknown>> = () => Promise.resolve(new Map()),
) {
  const batches: { contents: string[]; signal: AbortSignal }[] = [];
  const sizes: number[] = [];
  const write: WriteBatch = (posts, signal) => {
    batches.push({ contents: posts.map((stored) => stored.content), signal });
    return answer(posts, batches.length - 1);
  };
  return { commit: new GroupCommit(write, (size) => sizes.push(size)), batches, sizes };
}

/**
 * What the driver throws for an unordered insertMany whose documents at the given indexes got these codes
 * (none: a write concern error, which the driver reports with no write errors).
 */
function bulkWriteError(codes: Record<number, number>): MongoBulkWriteError {
  // The driver's WriteError is not exported at run time; the group commit reads only index, code and errmsg.
  const writeErrors = Object.entries(codes).map(([index, code]) => ({ index: Number(index), code, errmsg: `E${code} at ${index}` }));
  return new MongoBulkWriteError(
    { message: "write failed", code: writeErrors[0]?.code ?? 64, writeErrors: writeErrors as unknown as WriteError[] },
    {} as BulkWriteResult,
  );
}

/** Each promise's settled outcome, in order. */
const outcomes = (promises: Promise<void>[]) => Promise.allSettled(promises);

test("the inserts of one event-loop turn are written as one batch, and each caller learns it was stored", async () => {
  const { commit, batches, sizes } = fakeWriter();
  const signal = new AbortController().signal;
  const first = commit.insert(post("a"), signal);
  const second = commit.insert(post("b"), signal);
  await Promise.resolve(); // a microtask still belongs to the same turn
  const third = commit.insert(post("c"), signal);
  expect(await outcomes([first, second, third])).toEqual([
    { status: "fulfilled", value: undefined },
    { status: "fulfilled", value: undefined },
    { status: "fulfilled", value: undefined },
  ]);
  expect(batches.map((batch) => batch.contents)).toEqual([["a", "b", "c"]]);
  expect(sizes).toEqual([3]);
});

test("an insert of a later turn goes in the next batch", async () => {
  const { commit, batches, sizes } = fakeWriter();
  const signal = new AbortController().signal;
  await commit.insert(post("a"), signal);
  await Promise.all([commit.insert(post("b"), signal), commit.insert(post("c"), signal)]);
  expect(batches.map((batch) => batch.contents)).toEqual([["a"], ["b", "c"]]);
  expect(sizes).toEqual([1, 2]);
});

test("a document the server refused (a duplicate key) fails only its own insert, with that refusal", async () => {
  const refusal = new MongoServerError({ message: `E${DUPLICATE_KEY} at 1`, code: DUPLICATE_KEY, errmsg: `E${DUPLICATE_KEY} at 1` });
  const { commit } = fakeWriter(() => Promise.resolve(new Map([[1, refusal]])));
  const signal = new AbortController().signal;
  const [stored, duplicate, alsoStored] = await outcomes([
    commit.insert(post("a"), signal),
    commit.insert(post("b"), signal),
    commit.insert(post("c"), signal),
  ]);
  expect(stored).toEqual({ status: "fulfilled", value: undefined });
  expect(alsoStored).toEqual({ status: "fulfilled", value: undefined });
  expect(duplicate?.status).toBe("rejected");
  expect((duplicate as PromiseRejectedResult).reason).toBe(refusal);
});

test("an unknown outcome leaves each insert unknown, under its own post's id", async () => {
  const cause = new Error("connection reset");
  const { commit } = fakeWriter(() => Promise.reject(new WriteOutcomeUnknown("", "stored", cause)));
  const signal = new AbortController().signal;
  const posts = [post("a"), post("b")];
  const settled = await outcomes(posts.map((each) => commit.insert(each, signal)));
  expect(
    settled.map((outcome) => {
      const error = (outcome as PromiseRejectedResult).reason;
      return error instanceof WriteOutcomeUnknown && { id: error.id, action: error.action, cause: error.cause };
    }),
  ).toEqual(posts.map((each) => ({ id: each._id.toHexString(), action: "stored", cause })));
});

test("a write concern error concerns the whole batch: every insert gets it", async () => {
  const error = bulkWriteError({});
  const { commit } = fakeWriter(() => Promise.reject(error));
  const signal = new AbortController().signal;
  const settled = await outcomes([commit.insert(post("a"), signal), commit.insert(post("b"), signal)]);
  expect(settled).toEqual([
    { status: "rejected", reason: error },
    { status: "rejected", reason: error },
  ]);
});

test("a batch certainly not written fails every insert with the same error", async () => {
  const refused = new Error("not primary");
  const { commit } = fakeWriter(() => Promise.reject(refused));
  const signal = new AbortController().signal;
  expect(await outcomes([commit.insert(post("a"), signal), commit.insert(post("b"), signal)])).toEqual([
    { status: "rejected", reason: refused },
    { status: "rejected", reason: refused },
  ]);
});

test("an insert whose deadline passed before the batch left is not sent, and the others are", async () => {
  const { commit, batches, sizes } = fakeWriter();
  const expired = new AbortController();
  const late = commit.insert(post("late"), expired.signal);
  const onTime = commit.insert(post("on time"), new AbortController().signal);
  expired.abort(new Error("deadline"));
  expect(await outcomes([late, onTime])).toEqual([
    { status: "rejected", reason: new Error("deadline") },
    { status: "fulfilled", value: undefined },
  ]);
  expect(batches.map((batch) => batch.contents)).toEqual([["on time"]]);
  expect(sizes).toEqual([1]);
});

test("a turn whose every insert expired writes nothing", async () => {
  const { commit, batches, sizes } = fakeWriter();
  const expired = new AbortController();
  const late = commit.insert(post("late"), expired.signal);
  expired.abort(new Error("deadline"));
  expect(await outcomes([late])).toEqual([{ status: "rejected", reason: new Error("deadline") }]);
  expect(batches).toEqual([]);
  expect(sizes).toEqual([]);
});

test("the batch gives up when the first of its requests does", async () => {
  const { promise: started, resolve: start } = Promise.withResolvers<void>();
  const { promise: written, resolve: write } = Promise.withResolvers<void>();
  const { commit, batches } = fakeWriter(async () => {
    start();
    await written;
    return new Map();
  });
  const first = new AbortController();
  const second = new AbortController();
  const inserts = [commit.insert(post("a"), first.signal), commit.insert(post("b"), second.signal)];
  await started;
  const [batch] = batches;
  expect(batch?.signal.aborted).toBe(false);
  second.abort(new Error("deadline"));
  expect(batch?.signal.aborted).toBe(true);
  write();
  await Promise.all(inserts);
});
