// Defends: when MongoDB pauses or dies, every answer is true (a 201 is stored once, a 503 never is, a 504 says how to find out) and readiness says so within 2 seconds, both ways.
import { expect, test } from "bun:test";
import { EmulatorProcess } from "./support/emulator-process.ts";
import { FeedClient } from "./support/feed-client.ts";
import { withDatabase } from "./support/mongo-target.ts";
import { connectDriver, postJson, startTestFeed, type TestFeed } from "./support/test-feed.ts";
import { Changes, waitUntil } from "./support/wait-until.ts";

// These tests pause and kill MongoDB itself, which a shared replica set cannot be asked to do,
// so they always run against their own emulator in a child process (SIGSTOP, SIGKILL, restart).

const REQUEST_TIMEOUT_MS = 2_000;
/** How long readiness may take to notice a failure or a recovery. */
const READINESS_WITHIN_MS = 2_000;

type Answer = { content: string; status: number; body: Record<string, string>; startedAt: number; tookMs: number };

/** Writers posting without pause, each waiting for its answer before the next post. */
function keepPosting(http: string, writers: number) {
  const answers: Answer[] = [];
  const progress = new Changes();
  let stopped = false;
  const done = Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      for (let n = 0; !stopped; n++) {
        const content = `writer ${writer} post ${n}`;
        const startedAt = performance.now();
        const response = await postJson(http, { author: "outage", content });
        const body = (await response.json()) as Record<string, string>;
        answers.push({ content, status: response.status, body, startedAt, tookMs: performance.now() - startedAt });
        progress.changed();
      }
    }),
  );
  /** Resolves once `condition` holds for the answers so far (well within the test's own minute). */
  const until = async (condition: (answers: Answer[]) => boolean, what: string) => {
    await waitUntil(progress, what, () => condition(answers), { timeoutMs: 45_000, seen: () => `${answers.length} answers` });
  };
  const stop = () => {
    stopped = true;
    return done;
  };
  return { answers, until, stop };
}

async function readinessProblem(feed: TestFeed): Promise<Record<string, unknown>> {
  const response = await fetch(`${feed.http}/health/ready`);
  expect(response.status).toBe(503);
  const text = await response.text();
  expect(text).not.toMatch(/127\.0\.0\.1|localhost|:\d{4,5}\b/); // never an address on a public endpoint
  return JSON.parse(text);
}

test("MongoDB paused (SIGSTOP) under writes: every 201 stored once, no 503 for a stored post, every 504 points to the truth", async () => {
  await using emulator = await EmulatorProcess.start();
  const uri = withDatabase(emulator.uri, "paused");
  await using feed = await startTestFeed(uri, { REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) });
  await using driver = await connectDriver(uri);
  const watcher = await FeedClient.connect(feed.ws);
  const writers = keepPosting(feed.http, 8);
  await writers.until((answers) => answers.filter((answer) => answer.status === 201).length >= 16, "16 posts created");

  const notReady = feed.observed.next("readiness-changed", (change) => !change.ready);
  const pausedAt = performance.now();
  emulator.pause();
  const down = await notReady;
  expect(performance.now() - pausedAt).toBeLessThan(READINESS_WITHIN_MS);
  expect(down).toMatchObject({ ready: false, reason: expect.stringMatching(/^(change-stream-stalled|mongodb-unreachable)$/) });
  expect(await readinessProblem(feed)).toMatchObject({ status: 503, reason: down.ready ? "" : down.reason });
  // Every writer gets an answer while MongoDB is still paused: the deadline holds.
  await writers.until(
    (answers) => answers.filter((answer) => answer.startedAt > pausedAt).length >= 8,
    "8 answers to posts made during the pause",
  );

  const ready = feed.observed.next("readiness-changed", (change) => change.ready);
  const resumedAt = performance.now();
  emulator.resume();
  await ready;
  expect(performance.now() - resumedAt).toBeLessThan(READINESS_WITHIN_MS);
  expect((await fetch(`${feed.http}/health/ready`)).status).toBe(200);
  await writers.stop();

  // A marker written after the resume: once the feed delivers it, MongoDB has applied whatever it had received before.
  const marker = await driver.db().collection("posts").insertOne({ author: "marker", content: "after", createdAt: new Date() });
  await watcher.until((frames) => frames.some((frame) => frame.type === "insert" && frame.post.id === marker.insertedId.toHexString()));

  const posts = driver.db().collection("posts");
  const counts = { 201: 0, 503: 0, 504: 0 } as Record<number, number>;
  for (const answer of writers.answers) {
    if (![201, 503, 504].includes(answer.status)) expect([201, 503, 504]).toContain(answer.status);
    counts[answer.status]!++;
    expect(answer.tookMs).toBeLessThan(REQUEST_TIMEOUT_MS + 1_500);
    const stored = await posts.find({ content: answer.content }).toArray();
    if (answer.status === 201) {
      expect(stored.map((post) => post._id.toHexString())).toEqual([answer.body.id!]);
    } else if (answer.status === 503) {
      expect(stored).toEqual([]); // "retry" is only ever said of a post that was not stored
      expect(answer.body.detail).not.toMatch(/may have been stored/);
    } else {
      const { id, location } = answer.body;
      expect(id).toMatch(/^[0-9a-f]{24}$/);
      expect(answer.body).toMatchObject({ status: 504, location: `/posts/${id}` });
      expect(stored.length).toBeLessThanOrEqual(1);
      if (stored.length === 1) expect(stored[0]!._id.toHexString()).toBe(id!);
      expect((await fetch(`${feed.http}${location}`)).status).toBe(stored.length === 1 ? 200 : 404);
    }
  }
  console.log(`paused MongoDB: ${counts[201]} stored (201), ${counts[504]} outcome unknown (504), ${counts[503]} not stored (503)`);
  expect(counts[504]).toBeGreaterThan(0); // the writes in flight at the pause
  watcher.close();
}, 60_000);

test("MongoDB killed: readiness answers 503 mongodb-unreachable within 2 s, writes get 503, and 200 again within 2 s of a restart", async () => {
  await using emulator = await EmulatorProcess.start();
  const uri = withDatabase(emulator.uri, "killed");
  await using feed = await startTestFeed(uri, { REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) });
  expect((await postJson(feed.http, { author: "a", content: "before" })).status).toBe(201);

  const notReady = feed.observed.next("readiness-changed", (change) => !change.ready);
  const killedAt = performance.now();
  await emulator.kill();
  const down = await notReady;
  expect(performance.now() - killedAt).toBeLessThan(READINESS_WITHIN_MS);
  expect(await readinessProblem(feed)).toMatchObject({ status: 503, reason: "mongodb-unreachable", detail: "MongoDB cannot be reached" });
  // The details (which address, what failed) are in the log, where operators look.
  expect(feed.logs.find((line) => line.event === "readiness-changed")).toMatchObject({ level: "warn", detail: expect.any(String) });
  expect(down.ready).toBe(false);

  // Nothing can be sent: the answer is a plain 503, "retry", and it is true.
  const started = performance.now();
  const refused = await postJson(feed.http, { author: "a", content: "while dead" });
  expect(refused.status).toBe(503);
  expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
  expect(performance.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS + 1_500);

  const ready = feed.observed.next("readiness-changed", (change) => change.ready);
  await emulator.restart();
  const restartedAt = performance.now();
  await ready;
  expect(performance.now() - restartedAt).toBeLessThan(READINESS_WITHIN_MS);
  expect((await fetch(`${feed.http}/health/ready`)).status).toBe(200);

  // A fresh MongoDB cannot resume the old stream: clients are told to resync, and new posts flow.
  const client = await FeedClient.connect(feed.ws);
  const response = await postJson(feed.http, { author: "a", content: "after the restart" });
  expect(response.status).toBe(201);
  const { id } = (await response.json()) as { id: string };
  await client.until((frames) => frames.some((frame) => frame.type === "insert" && frame.post.id === id));
  client.close();
}, 60_000);
