// Defends: after any sequence of writes (API or driver, edits, author changes, broken shapes, bulk writes, deletes), with faults on the stream and reconnects, every client's map equals GET /posts with its filter.
import { expect, test } from "bun:test";
import { type Collection, type Document, ObjectId } from "mongodb";
import { clusterTimeOf } from "../src/feed/position.ts";
import { failPoint } from "./support/fail-point.ts";
import { FeedClient, type FeedFrame } from "./support/feed-client.ts";
import { applyFrames, listAll } from "./support/feed-view.ts";
import { useMongo } from "./support/harness.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { seededRandom } from "./support/seeded-random.ts";
import { connectDriver, postJson, startTestFeed, type TestFeed } from "./support/test-feed.ts";

const mongo = useMongo();

const OPERATIONS = 250;
const AUTHORS = ["ada", "bob", "cy", "dee"] as const;
type Types = readonly ("insert" | "update" | "delete")[];
type Spec = { name: string; authors?: readonly string[]; ids?: readonly string[]; types?: Types; reference?: string };

/** One client across reconnects: all the frames it received, in order. */
class Follower {
  readonly frames: FeedFrame[] = [];
  readonly raw: string[] = [];
  reconnects = 0;
  #client!: FeedClient;
  #seen = 0;

  constructor(
    readonly spec: Spec,
    private readonly feed: TestFeed,
  ) {}

  get query(): string {
    const query = new URLSearchParams();
    for (const author of this.spec.authors ?? []) query.append("author", author);
    for (const id of this.spec.ids ?? []) query.append("id", id);
    if (this.spec.types) query.append("types", this.spec.types.join(","));
    return query.toString();
  }

  async connect(since?: string): Promise<void> {
    const query = [this.query, since ? `since=${since}` : ""].filter(Boolean).join("&");
    this.#client = await FeedClient.connect(`${this.feed.ws}${query ? `?${query}` : ""}`);
    this.#seen = 0;
  }

  /** Drops the connection and comes back with the last position seen: nothing may be lost or doubled. */
  async reconnect(): Promise<void> {
    const since = this.#collect().findLast((frame) => "position" in frame);
    if (!since || !("position" in since)) return;
    this.#client.close();
    await this.#client.closed;
    this.#collect();
    this.reconnects++;
    await this.connect(since.position);
  }

  async until(condition: (frames: FeedFrame[]) => boolean, what: string): Promise<void> {
    await this.#client.until(
      () => condition([...this.frames, ...this.#client.frames.slice(this.#seen)]),
      30_000,
      `${this.spec.name}: ${what}`,
    );
    this.#collect();
  }

  close(): void {
    this.#collect();
    this.#client.close();
  }

  #collect(): FeedFrame[] {
    this.frames.push(...this.#client.frames.slice(this.#seen));
    this.raw.push(...this.#client.raw.slice(this.#seen));
    this.#seen = this.#client.frames.length;
    return this.frames;
  }
}

/** The operation a frame kind comes from: `types` filters by it. */
const operationOf = (type: string) => (type === "enter" || type === "leave" ? "update" : type);

for (const mode of ["pre- and post-images", "degraded (collMod refused)"] as const) {
  test(`convergence, ${mode}: every client's map equals GET /posts with its filter after ${OPERATIONS} random writes`, async () => {
    const seed = Number(process.env.CONVERGENCE_SEED ?? Date.now() % 1_000_000);
    console.log(`convergence (${mode}) seed ${seed}: replay with CONVERGENCE_SEED=${seed}`);
    const random = seededRandom(seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const chance = (p: number) => random() < p;

    const uri = mongo.uri(uniqueDatabase("converge"));
    await using driver = await connectDriver(uri);
    const posts: Collection<Document> = driver.db().collection("posts");
    await using stack = new AsyncDisposableStack();
    if (mode !== "pre- and post-images") {
      // As a deployment without the privilege would: the server must start, degraded, and say so.
      stack.use(await failPoint(driver, { mode: { times: 1 }, data: { failCommands: ["collMod"], errorCode: 13, appName: "mongo-feed" } }));
    }
    const feed = stack.use(await startTestFeed(uri));
    expect(feed.observed.of("images-unavailable").length).toBe(mode === "pre- and post-images" ? 0 : 1);

    const pool = Array.from({ length: 10 }, () => new ObjectId().toHexString());
    const sentinel = new ObjectId().toHexString();
    const watched = [...pool.slice(0, 4), sentinel];
    const specs: Spec[] = [
      { name: "everything" },
      { name: "ada", authors: ["ada"] },
      { name: "bob or cy", authors: ["bob", "cy"] },
      { name: "watched ids", ids: watched },
      { name: "ada's watched ids", authors: ["ada"], ids: watched },
      { name: "inserts and deletes", types: ["insert", "delete"], reference: "everything" },
      { name: "ada's updates", authors: ["ada"], types: ["update"], reference: "ada" },
    ];
    const followers = specs.map((spec) => new Follower(spec, feed));
    for (const follower of followers) await follower.connect();

    const known: string[] = [];
    const someId = () => (known.length > 0 && chance(0.85) ? pick(known) : pick(pool));
    const post = (author: string, content: string, _id = new ObjectId()) => ({ _id, author, content, createdAt: new Date() });
    const api = (method: string, path: string, body?: unknown) =>
      fetch(`${feed.http}${path}`, {
        method,
        headers: { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    const operations: [number, () => Promise<unknown>][] = [
      [
        5,
        async () => {
          const response = await postJson(feed.http, { author: pick(AUTHORS), content: `api ${random()}` });
          expect(response.status).toBe(201);
          known.push(((await response.json()) as { id: string }).id);
        },
      ],
      [
        4,
        async () => {
          const unused = pool.filter((id) => !known.includes(id));
          const documents = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
            const _id = unused.length > 0 && chance(0.5) ? new ObjectId(unused.pop()!) : new ObjectId();
            known.push(_id.toHexString());
            return chance(0.8) ? post(pick(AUTHORS), `many ${random()}`, _id) : { _id, author: pick(AUTHORS), note: "not a post" };
          });
          await posts.insertMany(documents);
        },
      ],
      [4, async () => expect([200, 404]).toContain((await api("PATCH", `/posts/${someId()}`, { content: `edit ${random()}` })).status)],
      [2, () => posts.updateMany({ author: pick(AUTHORS) }, { $set: { content: `bulk ${random()}`, updatedAt: new Date() } })],
      [3, () => posts.updateOne({ _id: new ObjectId(someId()) }, { $set: { author: pick(AUTHORS) } })],
      [2, () => posts.updateOne({ _id: new ObjectId(someId()) }, chance(0.5) ? { $unset: { content: "" } } : { $set: { author: 42 } })],
      [2, () => posts.updateOne({ _id: new ObjectId(someId()) }, { $set: { author: pick(AUTHORS), content: "restored" } })],
      [
        2,
        () =>
          posts.replaceOne(
            { _id: new ObjectId(someId()) },
            chance(0.7) ? { author: pick(AUTHORS), content: "replaced", createdAt: new Date() } : { note: "replaced by a non-post" },
          ),
      ],
      [3, async () => expect([204, 404]).toContain((await api("DELETE", `/posts/${someId()}`)).status)],
      [1, () => posts.deleteMany({ _id: { $in: [someId(), someId()].map((id) => new ObjectId(id)) } })],
      [
        1,
        async () => {
          // Faults on the feed's own getMores: dropped connections, resumable and non-resumable errors.
          const data = pick([
            { closeConnection: true },
            { errorCode: 6, errorLabels: ["ResumableChangeStreamError"] },
            { errorCode: 2, errorLabels: [] },
          ]);
          stack.use(await failPoint(driver, { mode: { times: 1 }, data: { failCommands: ["getMore"], appName: "mongo-feed", ...data } }));
        },
      ],
      [1, () => pick(followers).reconnect()],
    ];
    const totalWeight = operations.reduce((sum, [weight]) => sum + weight, 0);
    for (let n = 0; n < OPERATIONS; n++) {
      let roll = random() * totalWeight;
      const [, operation] = operations.find(([weight]) => {
        roll -= weight;
        return roll < 0;
      })!;
      await operation();
    }

    // Sentinels: one post per author (ada's with a watched id), each then edited. The last
    // change for each follower's part is a sentinel's, so once it arrives everything before it has.
    const sentinels = new Map<string, string>();
    for (const author of AUTHORS) {
      const _id = author === "ada" ? new ObjectId(sentinel) : new ObjectId();
      await posts.insertOne(post(author, "sentinel", _id));
      sentinels.set(_id.toHexString(), author);
    }
    for (const id of sentinels.keys()) expect((await api("PATCH", `/posts/${id}`, { content: "sentinel final" })).status).toBe(200);
    for (const follower of followers) {
      const { authors, ids, types } = follower.spec;
      const mine = [...sentinels]
        .filter(([id, author]) => (!authors || authors.includes(author)) && (!ids || ids.includes(id)))
        .map(([id]) => id);
      const lastKind = !types || types.includes("update") ? "update" : "insert";
      await follower.until(
        (frames) =>
          mine.every((id) =>
            frames.some(
              (frame) =>
                frame.type === lastKind && frame.post.id === id && (lastKind === "insert" || frame.post.content === "sentinel final"),
            ),
          ),
        "its sentinels",
      );
    }

    const byName = new Map(followers.map((follower) => [follower.spec.name, follower]));
    const seenKinds = new Set<string>();
    for (const follower of followers) {
      const { name, types, reference } = follower.spec;
      for (const frame of follower.frames) seenKinds.add(frame.type);
      expect(follower.frames.filter((frame) => frame.type === "resync")).toEqual([]);
      // Each position at most once, in commit order.
      const positions = follower.frames.map((frame) => ("position" in frame ? frame.position : ""));
      expect(new Set(positions).size).toBe(positions.length);
      const times = positions.map((position) => clusterTimeOf(position)!);
      expect(times.every((time, index) => index === 0 || time >= times[index - 1]!)).toBe(true);
      if (!types) {
        const { view } = await listAll(feed.http, follower.query);
        expect({ name, view: applyFrames(follower.frames) }).toEqual({ name, view });
      } else if (mode === "pre- and post-images") {
        // Exactly the reference's frames whose operation is one of its types (the very same strings).
        const expected = byName.get(reference!)!.raw.filter((raw) => types.includes(operationOf(JSON.parse(raw).type) as never));
        expect({ name, frames: follower.raw }).toEqual({ name, frames: expected });
      } else {
        expect(follower.frames.every((frame) => types.includes(operationOf(frame.type) as never))).toBe(true);
      }
    }
    // The random run did exercise every kind of frame.
    expect([...seenKinds].sort()).toEqual(
      mode === "pre- and post-images" ? ["delete", "enter", "insert", "leave", "update"] : ["delete", "insert", "leave", "update"],
    );
    const reconnects = followers.reduce((sum, follower) => sum + follower.reconnects, 0);
    console.log(
      `convergence (${mode}): ${followers.reduce((sum, f) => sum + f.frames.length, 0)} frames, ${reconnects} reconnects, ${feed.observed.of("stream-down").length} stream restarts`,
    );
    for (const follower of followers) follower.close();
  }, 120_000);
}
