// Defends: every post reaches every client exactly once, in commit order, while faults hit the change stream.
import { expect, test } from "bun:test";
import { failPoint, type FailPointCommand } from "./support/fail-point.ts";
import { FeedClient } from "./support/feed-client.ts";
import { useMongo } from "./support/harness.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { PostWriter, postIds } from "./support/post-writer.ts";
import { seededRandom } from "./support/seeded-random.ts";
import { connectDriver, startTestFeed } from "./support/test-feed.ts";

const mongo = useMongo();

type Fault = {
  name: string;
  failPoint: NonNullable<FailPointCommand["configureFailPoint"]>;
  data: Record<string, unknown>;
  times: number;
  /** Who recovers: the driver's own resume (a resumable error on getMore), or the feed's loop restarting the stream. */
  recoveredBy: "driver" | "feed";
};

/**
 * Faults a real mongod (with test commands) injects. `failCommand` errors carry only the labels
 * given, as on mongod; `failGetMoreAfterCursorCheckout` gets its labels from the server itself.
 */
const faults: Fault[] = [
  {
    name: "connection closed on getMore",
    failPoint: "failCommand",
    data: { failCommands: ["getMore"], closeConnection: true },
    times: 1,
    recoveredBy: "driver",
  },
  {
    name: "resumable HostUnreachable on getMore",
    failPoint: "failCommand",
    data: { failCommands: ["getMore"], errorCode: 6, errorLabels: ["ResumableChangeStreamError"] },
    times: 1,
    recoveredBy: "driver",
  },
  // ExceededTimeLimit, not a "node is shutting down" code: injecting those without a real state
  // change leaves the driver waiting for its next heartbeat (10 s) before it selects the server again.
  {
    name: "resumable error labelled by the server",
    failPoint: "failGetMoreAfterCursorCheckout",
    data: { errorCode: 262 },
    times: 1,
    recoveredBy: "driver",
  },
  {
    name: "cursor killed (CursorNotFound) on getMore",
    failPoint: "failCommand",
    data: { failCommands: ["getMore"], errorCode: 43 },
    times: 1,
    recoveredBy: "driver",
  },
  {
    name: "non-resumable error on getMore",
    failPoint: "failCommand",
    data: { failCommands: ["getMore"], errorCode: 2, errorLabels: [] },
    times: 1,
    recoveredBy: "feed",
  },
  {
    name: "connection closed on the resume aggregate",
    failPoint: "failCommand",
    data: { failCommands: ["aggregate"], closeConnection: true },
    times: 1,
    recoveredBy: "feed",
  },
  {
    name: "non-resumable error on the resume aggregate",
    failPoint: "failCommand",
    data: { failCommands: ["aggregate"], errorCode: 2, errorLabels: [] },
    times: 1,
    recoveredBy: "feed",
  },
  {
    name: "getMore and its resumes all lose their connection",
    failPoint: "failCommand",
    data: { failCommands: ["getMore", "aggregate"], closeConnection: true },
    times: 3,
    recoveredBy: "feed",
  },
];

test("chaos: 50 clients get all 2,000 posts exactly once, in order, while faults hit the change stream", async () => {
  const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);
  const random = seededRandom(seed);
  const uri = mongo.uri(uniqueDatabase("chaos"));
  await using feed = await startTestFeed(uri);
  await using driver = await connectDriver(uri);
  const clients = await Promise.all(Array.from({ length: 50 }, () => FeedClient.connect(feed.ws)));

  // Rounds: inject a fault, write 40 posts while it is armed (the feed's getMores run into it),
  // and let every client catch up before the next fault replaces it. 50 rounds, 2,000 posts.
  const rounds = 50;
  const perRound = 40;
  const posts = driver.db().collection("posts");
  const ids: string[] = [];
  const injected: Fault[] = [];
  // A fault stays armed until the next one replaces it (an aggregate fault fires at a later resume); all are off at the end.
  await using faultsArmed = new AsyncDisposableStack();
  for (let round = 0; round < rounds; round++) {
    const fault = faults[Math.floor(random() * faults.length)]!;
    injected.push(fault);
    // Only the feed server's connections are targeted (by appName) where the fail point allows it.
    const data = fault.failPoint === "failCommand" ? { ...fault.data, appName: "mongo-feed" } : fault.data;
    faultsArmed.use(await failPoint(driver, { configureFailPoint: fault.failPoint, mode: { times: fault.times }, data }));
    ids.push(...(await new PostWriter(posts, perRound, (n) => `round ${round} post ${n}`).done));
    await Promise.all(clients.map((client) => client.untilInserts(ids.length, 30_000)));
  }

  for (const client of clients) {
    expect(client.frames.some((frame) => frame.type === "resync")).toBe(false);
    expect(postIds(client.frames)).toEqual(ids);
  }
  expect(ids.length).toBe(rounds * perRound);
  const restarts = feed.observed.of("stream-down").length;
  // Which faults the seed drew decides how many restarts there must and may be; every seed checks both bounds.
  // A non-resumable getMore error always fires within its round and only the feed's own loop recovers from it.
  const forced = injected.filter((fault) => fault.name === "non-resumable error on getMore").length;
  // A restart takes a fault the driver's own resume cannot absorb (a non-resumable getMore error, or any
  // fault on an aggregate, which is what a resume sends), and each fires at most `times` times.
  const possible = injected.filter((fault) => fault.recoveredBy === "feed").reduce((sum, fault) => sum + fault.times, 0);
  console.log(
    `chaos seed ${seed}: ${injected.length} faults, ${restarts} restarts beyond the driver's own resume (at least ${forced}, at most ${possible})`,
  );
  expect(restarts).toBeGreaterThanOrEqual(forced);
  expect(restarts).toBeLessThanOrEqual(possible);
  for (const client of clients) client.close();
}, 120_000);
