// Defends, on a three-member replica set: through step-downs, a lost secondary, a lost primary and a
// secondary that stops replicating, every stored post reaches every follower exactly once, in commit
// order, on an instance reading from the primary and on one reading from secondaries; every POST answer
// is true (201 stored, 503 not stored, 504 resolved by GET /posts/:id). Its own emulator: a real set
// cannot have its members shut down and started again by a test.
import { expect, test } from "bun:test";
import { type Collection, MongoClient, ObjectId } from "mongodb";
import { type Emulator, type Member, startEmulator, withDatabase } from "mongo-emulator";
import { FeedClient } from "./support/feed-client.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { Changes, waitUntil } from "./support/wait-until.ts";
import { postIds } from "./support/post-writer.ts";
import { seededRandom } from "./support/seeded-random.ts";
import { startTestFeed, type TestFeed } from "./support/test-feed.ts";

/** A fault, undone by what it returns (a member started again, a fail point off). */
type Fault = { name: string; inject(set: Emulator): Promise<() => Promise<void>> };

const primaryOf = (set: Emulator): Member => {
  const primary = set.members.find((member) => member.isPrimary());
  if (!primary) throw new Error("the set has no primary");
  return primary;
};
const aSecondaryOf = (set: Emulator, random: () => number): Member => {
  const secondaries = set.members.filter((member) => member.running && !member.isPrimary());
  const secondary = secondaries[Math.floor(random() * secondaries.length)];
  if (!secondary) throw new Error("the set has no secondary");
  return secondary;
};

/** Each fault as a real mongod has it: the admin commands and fail points mongosh would send. */
function faults(random: () => number): Fault[] {
  return [
    {
      name: "primary stepped down",
      async inject(set) {
        await admin(primaryOf(set), { replSetStepDown: 1, secondaryCatchUpPeriodSecs: 1 }).catch(() => {}); // mongod closes the connection
        return async () => {};
      },
    },
    {
      name: "a secondary shut down",
      async inject(set) {
        const member = aSecondaryOf(set, random);
        await member.shutdown();
        return () => member.start();
      },
    },
    {
      name: "the primary shut down",
      async inject(set) {
        const member = primaryOf(set);
        await member.shutdown({ force: true });
        return () => member.start();
      },
    },
    {
      name: "a secondary stops replicating (stopReplProducer), then catches up",
      async inject(set) {
        const member = aSecondaryOf(set, random);
        await admin(member, { configureFailPoint: "stopReplProducer", mode: "alwaysOn" });
        return async () => void (await admin(member, { configureFailPoint: "stopReplProducer", mode: "off" }));
      },
    },
  ];
}

async function admin(member: Member, command: Record<string, unknown>): Promise<unknown> {
  const client = await new MongoClient(member.uri, { appName: "feed-tests", serverSelectionTimeoutMS: 2_000 }).connect();
  try {
    return await client.db("admin").command(command);
  } finally {
    await client.close(true);
  }
}

type Answer = { status: number; id?: string };

/** POSTs one post with an Idempotency-Key until it is stored (503 and 504 retried with the same key); its id. */
async function postUntilStored(feed: TestFeed, key: string): Promise<string> {
  for (;;) {
    const response = await fetch(`${feed.http}/posts`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": key },
      body: JSON.stringify({ author: "marker", content: key }),
    });
    const answer = (await response.json()) as { id?: string };
    if (response.status === 201 || response.status === 200) return answer.id as string;
    expect([503, 504]).toContain(response.status);
  }
}

/**
 * POSTs through one instance, each with an Idempotency-Key, retried with the same key on 503 and
 * 504 (after resolving the 504 with GET /posts/:id, which must agree with the database later).
 */
class HttpWriter {
  readonly stored: string[] = [];
  readonly answers: Answer[] = [];
  /** Ids answered 504: each must be told apart later by GET /posts/:id. */
  readonly unknown: string[] = [];
  #stopped = false;
  readonly done: Promise<void>;

  constructor(
    private readonly feed: TestFeed,
    private readonly name: string,
    private readonly progress: () => void,
  ) {
    this.done = this.#run();
  }

  stop(): void {
    this.#stopped = true;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  async #run(): Promise<void> {
    for (let n = 0; !this.#stopped; n++) {
      const key = `${this.name}-${n}`;
      const body = JSON.stringify({ author: this.name, content: `${this.name} post ${n}` });
      for (;;) {
        const response = await fetch(`${this.feed.http}/posts`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "Idempotency-Key": key },
          body,
        });
        const answer = (await response.json()) as { id?: string };
        this.answers.push({ status: response.status, ...(answer.id ? { id: answer.id } : {}) });
        if (response.status === 201 || response.status === 200) {
          this.stored.push(answer.id as string);
          this.progress();
          break;
        }
        expect([503, 504]).toContain(response.status);
        if (response.status === 504) {
          expect(answer.id).toMatch(/^[0-9a-f]{24}$/);
          this.unknown.push(answer.id as string);
        }
      }
    }
  }
}

/**
 * Inserts straight through the driver, as a script would: its own _id, retried until stored (a
 * duplicate _id means it was). It keeps pace with the HTTP writers (`turn` resolves when they have
 * stored more than it has), so the run stays a few thousand posts.
 */
class DriverWriter {
  readonly stored: string[] = [];
  #stopped = false;
  readonly done: Promise<void>;

  constructor(
    private readonly posts: Collection,
    private readonly progress: () => void,
    private readonly turn: (stored: number) => Promise<unknown>,
  ) {
    this.done = this.#run();
  }

  stop(): void {
    this.#stopped = true;
  }

  async #run(): Promise<void> {
    for (let n = 0; !this.#stopped; n++) {
      await this.turn(n);
      const _id = new ObjectId();
      for (;;) {
        try {
          await this.posts.insertOne({ _id, author: "script", content: `script post ${n}`, createdAt: new Date() });
          break;
        } catch (error) {
          if ((error as { code?: number }).code === 11000) break;
        }
      }
      this.stored.push(_id.toHexString());
      this.progress();
    }
  }
}

const SEEDS = process.env.CHAOS_SEED ? [Number(process.env.CHAOS_SEED)] : [1, 2, 3];

for (const seed of SEEDS) {
  test(`replica-set chaos, seed ${seed}: every stored post reaches every follower once, in commit order, through elections and lost members`, async () => {
    const random = seededRandom(seed);
    await using set = await startEmulator({ members: 3, electionTimeoutMs: 200 });
    const uri = withDatabase(set.uri, uniqueDatabase("rs_chaos"));
    // One instance streams from the primary, the other from secondaries (a fleet keeping its streams off the primary).
    await using onPrimary = await startTestFeed(uri, { REQUEST_TIMEOUT_MS: "8000" });
    await using onSecondary = await startTestFeed(uri, { REQUEST_TIMEOUT_MS: "8000", FEED_READ_PREFERENCE: "secondaryPreferred" });
    const driver = await new MongoClient(uri, { appName: "feed-tests" }).connect();
    const followers = await Promise.all([onPrimary, onPrimary, onSecondary, onSecondary].map((feed) => FeedClient.connect(feed.ws)));

    let written = 0;
    const changes = new Changes();
    const progress = () => {
      written++;
      changes.changed();
    };
    const writtenAtLeast = (count: number) =>
      waitUntil(changes, `${count} posts stored`, () => written >= count, { timeoutMs: 60_000, seen: () => `${written} stored` });
    const http = [
      new HttpWriter(onPrimary, "via-primary-instance", progress),
      new HttpWriter(onSecondary, "via-secondary-instance", progress),
    ];
    const httpStored = () => http.reduce((sum, writer) => sum + writer.stored.length, 0);
    const keepingPace = (stored: number) =>
      waitUntil(changes, "the HTTP writers' pace", () => httpStored() > stored / 2 || http.some((writer) => writer.stopped), {
        timeoutMs: 60_000,
      });
    const writers = [...http, new DriverWriter(driver.db().collection("posts"), progress, keepingPace)];

    // Writers stop however the test ends, so none writes to a server that is gone.
    const stopWriters = async () => {
      for (const writer of writers) writer.stop();
      return Promise.allSettled(writers.map((writer) => writer.done));
    };
    // Faults in a seeded order. Each: writes go on through it, then it is undone (a member started again,
    // replication resumed), and every follower gets what was written meanwhile before the next one.
    const recoveries: string[] = [];
    const markers: string[] = [];
    try {
      const order = faults(random).sort(() => random() - 0.5);
      const primaryFollowers = followers.slice(0, 2);
      for (const [index, fault] of order.entries()) {
        await writtenAtLeast(written + 10);
        const after = written;
        const started = performance.now();
        const undo = await fault.inject(set);
        // A post sent after the fault: when it is stored, and when the followers of the primary's stream have it.
        const marker = await postUntilStored(onPrimary, `marker-${seed}-${index}`);
        const writing = performance.now() - started;
        await Promise.all(
          primaryFollowers.map((follower) =>
            follower.until((frames) => postIds(frames).includes(marker), 30_000, `the post written after "${fault.name}"`),
          ),
        );
        const flowing = performance.now() - started;
        await writtenAtLeast(after + 10);
        await undo();
        await Promise.all(
          followers.map((follower, at) =>
            follower.until(
              (frames) => postIds(frames).includes(marker),
              30_000,
              `follower ${at}: the post written after "${fault.name}", undone`,
            ),
          ),
        );
        recoveries.push(
          `${fault.name}: a POST sent after it stored in ${Math.round(writing)} ms, on the feed in ${Math.round(flowing)} ms`,
        );
        markers.push(marker);
      }
      await writtenAtLeast(written + 10);
    } catch (error) {
      await stopWriters();
      throw error;
    }
    for (const outcome of await stopWriters()) if (outcome.status === "rejected") throw outcome.reason;

    const stored = [...writers.flatMap((writer) => writer.stored), ...markers];
    const inDatabase = (
      await driver
        .db()
        .collection("posts")
        .find({}, { projection: { _id: 1 } })
        .toArray()
    ).map((post) => post._id.toHexString());
    // Nothing answered 201 is missing, nothing is stored twice (idempotent retries), nothing stored was answered otherwise.
    expect(new Set(inDatabase)).toEqual(new Set(stored));
    expect(inDatabase.length).toBe(stored.length);
    // Every 504 is resolved by GET /posts/:id, on either instance, as the database has it.
    for (const writer of writers) {
      if (!(writer instanceof HttpWriter)) continue;
      for (const id of writer.unknown) {
        for (const feed of [onPrimary, onSecondary]) {
          expect((await fetch(`${feed.http}/posts/${id}`)).status).toBe(inDatabase.includes(id) ? 200 : 404);
        }
      }
    }

    await Promise.all(followers.map((follower) => follower.untilInserts(stored.length, 30_000)));
    const reference = postIds(followers[0]!.frames);
    for (const follower of followers) {
      expect(follower.frames.some((frame) => frame.type === "resync")).toBe(false);
      const ids = postIds(follower.frames);
      // Exactly once each, every stored post, in one commit order shared by every follower on both instances.
      expect(new Set(ids).size).toBe(ids.length);
      expect(new Set(ids)).toEqual(new Set(inDatabase));
      expect(ids).toEqual(reference);
      const positions = follower.inserts.map((frame) => frame.position);
      expect(positions).toEqual([...positions].sort());
    }

    const answers = writers.flatMap((writer) => (writer instanceof HttpWriter ? writer.answers : []));
    const count = (status: number) => answers.filter((answer) => answer.status === status).length;
    console.log(
      `replica-set chaos seed ${seed}: ${stored.length} posts (${count(201)} × 201, ${count(503)} × 503, ${count(504)} × 504); ` +
        `elections seen: ${onPrimary.observed.of("primary-elected").length}\n  ${recoveries.join("\n  ")}`,
    );
    for (const follower of followers) follower.close();
    await driver.close();
  }, 120_000);
}
