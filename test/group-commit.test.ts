// Defends: concurrent POSTs share one insertMany, yet each gets its own answer (201, 409, 504), a lone POST is not delayed, and POST_GROUP_COMMIT=false turns it off.
import { describe, expect, test } from "bun:test";
import { ObjectId } from "mongodb";
import { failPoint } from "./support/fail-point.ts";
import { useMongo } from "./support/harness.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { connectDriver, postJson, startTestFeed } from "./support/test-feed.ts";

const mongo = useMongo();

const concurrently = (http: string, contents: string[]) =>
  Promise.all(
    contents.map(async (content) => {
      const response = await postJson(http, { author: "grouped", content });
      return { status: response.status, body: (await response.json()) as { id?: string; content?: string } };
    }),
  );

describe("group commit", () => {
  test("50 concurrent POSTs are stored with fewer inserts than requests, each answered with its own post", async () => {
    const uri = mongo.uri(uniqueDatabase("group"));
    await using feed = await startTestFeed(uri);
    await using driver = await connectDriver(uri);
    const contents = Array.from({ length: 50 }, (_, n) => `together ${n}`);
    const answers = await concurrently(feed.http, contents);
    expect(answers.map((answer) => answer.status)).toEqual(contents.map(() => 201));
    expect(answers.map((answer) => answer.body.content)).toEqual(contents);
    const batches = feed.observed.of("group-commit").map((batch) => batch.size);
    expect(batches.reduce((sum, size) => sum + size, 0)).toBe(50);
    expect(Math.max(...batches)).toBeGreaterThan(1);
    const stored = await driver.db().collection("posts").find({ author: "grouped" }).toArray();
    expect(stored.map((post) => post._id.toHexString()).sort()).toEqual(answers.map((answer) => answer.body.id!).sort());
  });

  test("a document refused inside a batch fails alone (409); the others in the same insertMany are stored", async () => {
    const uri = mongo.uri(uniqueDatabase("group_conflict"));
    await using feed = await startTestFeed(uri);
    await using driver = await connectDriver(uri);
    // An operator's unique index: two POSTs with the same content cannot both be stored.
    await driver.db().collection("posts").createIndex({ content: 1 }, { unique: true });
    const contents = ["one", "two", "twin", "three", "twin", "four"];
    const answers = await concurrently(feed.http, contents);
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 201, 201, 201, 201, 409]);
    expect(feed.observed.of("group-commit").some((batch) => batch.size > 1)).toBe(true);
    const stored = (await driver.db().collection("posts").find({}).toArray()).map((post) => post.content).sort();
    expect(stored).toEqual(["four", "one", "three", "twin", "two"]);
  });

  test("a batch whose insert is lost answers 504 for each of its posts, with its own id; nothing answered 201 is missing, nothing answered 503 stored", async () => {
    const uri = mongo.uri(uniqueDatabase("group_lost"));
    await using feed = await startTestFeed(uri);
    await using driver = await connectDriver(uri);
    const answers = await (async () => {
      // The batch's insert and the driver's retry of it both lose their connection.
      await using _lost = await failPoint(driver, {
        mode: { times: 2 },
        data: { failCommands: ["insert"], closeConnection: true, appName: "mongo-feed" },
      });
      return await concurrently(feed.http, ["lost a", "lost b", "lost c", "lost d"]); // awaited: the fail point stays armed
    })();
    // A later batch may find MongoDB marked unreachable after the lost connection: 503, nothing sent.
    for (const { status } of answers) expect([201, 503, 504]).toContain(status);
    expect(answers.map((answer) => answer.status)).toContain(504);
    const posts = driver.db().collection("posts");
    const stored = await posts.find({ author: "grouped" }).toArray();
    for (const answer of answers) {
      if (answer.status === 503) continue;
      const id = answer.body.id!;
      expect(id).toMatch(/^[0-9a-f]{24}$/);
      if (answer.status === 201) expect(await posts.countDocuments({ _id: new ObjectId(id) })).toBe(1);
    }
    // Nothing answered 503 was stored: every stored post is one answered 201 or 504.
    const answered = new Set(answers.filter((answer) => answer.status !== 503).map((answer) => answer.body.id));
    for (const post of stored) expect(answered).toContain(post._id.toHexString());
  });

  test("POST_GROUP_COMMIT=false inserts each post on its own", async () => {
    await using feed = await startTestFeed(mongo.uri(uniqueDatabase("group_off")), { POST_GROUP_COMMIT: "false" });
    const answers = await concurrently(feed.http, ["a", "b", "c", "d", "e"]);
    expect(answers.map((answer) => answer.status)).toEqual([201, 201, 201, 201, 201]);
    expect(feed.observed.of("group-commit")).toEqual([]);
  });
});
