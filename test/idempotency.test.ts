// Defends: a POST with an Idempotency-Key is applied at most once per key and identity, for 24 hours, across retries, concurrent duplicates and instances; the same key with another body is 422.
import { describe, expect, test } from "bun:test";
import { failPoint } from "./support/fail-point.ts";
import { useFeed, useMongo } from "./support/harness.ts";
import { claims, randomSecret, signHs256 } from "./support/tokens.ts";

const mongo = useMongo();
const secret = randomSecret();

type Sent = { status: number; replayed: string | null; body: Record<string, unknown> };

async function send(http: string, body: unknown, headers: Record<string, string>): Promise<Sent> {
  const response = await fetch(`${http}/posts`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    replayed: response.headers.get("idempotent-replayed"),
    body: (await response.json()) as Record<string, unknown>,
  };
}

for (const mode of ["auth on", "auth off"] as const) {
  describe(`${mode}`, () => {
    const env: Record<string, string> = mode === "auth on" ? { AUTH_JWT_SECRET: secret } : { TRUST_PROXY: "true" };
    const feed = useFeed({ mongo, database: "idempotency", env });
    const other = useFeed({ database: feed, env }); // a second instance on the same database
    const database = feed.database;

    const body = (content: string) => (mode === "auth on" ? { content } : { author: "ada", content });
    /** Headers of one identity: a token's sub with auth on, a client address (via a trusted proxy) with it off. */
    const as = async (who: string, key: string) => ({
      "Idempotency-Key": key,
      ...(mode === "auth on" ? { Authorization: `Bearer ${await signHs256(secret, claims({ sub: who }))}` } : { "X-Forwarded-For": who }),
    });
    const who = (n: number) => (mode === "auth on" ? `user-${n}` : `203.0.113.${n}`);
    const stored = (content: string) => mongo.driver.db(database).collection("posts").countDocuments({ content });

    test("a retry with the same key and body returns the original post, marked Idempotent-Replayed, and stores nothing more", async () => {
      const key = crypto.randomUUID();
      const first = await send(feed.http, body("retried"), await as(who(1), key));
      expect(first).toMatchObject({ status: 201, replayed: null });
      const again = await send(feed.http, body("retried"), await as(who(1), key));
      expect(again).toEqual({ status: 201, replayed: "true", body: first.body });
      expect(await stored("retried")).toBe(1);
    });

    test("the same key with another body is refused with 422", async () => {
      const key = crypto.randomUUID();
      expect((await send(feed.http, body("original"), await as(who(2), key))).status).toBe(201);
      const reused = await send(feed.http, body("something else"), await as(who(2), key));
      expect(reused.status).toBe(422);
      expect(reused.body).toMatchObject({
        status: 422,
        title: "Unprocessable Content",
        detail: expect.stringContaining("Idempotency-Key"),
      });
      expect(await stored("something else")).toBe(0);
    });

    test("twenty identical requests at once store one post, and all answer it", async () => {
      const key = crypto.randomUUID();
      const headers = await as(who(3), key);
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, n) => send(n % 2 ? other.http : feed.http, body("at once"), headers)),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(201));
      expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
      expect(answers.filter((answer) => answer.replayed === null).length).toBe(1);
      expect(await stored("at once")).toBe(1);
    });

    test("a retry on another instance replays the post the first one stored", async () => {
      const key = crypto.randomUUID();
      const first = await send(feed.http, body("two instances"), await as(who(4), key));
      const onOther = await send(other.http, body("two instances"), await as(who(4), key));
      expect(onOther).toEqual({ status: 201, replayed: "true", body: first.body });
      expect(await stored("two instances")).toBe(1);
    });

    test("keys belong to one identity: another identity's same key is its own post", async () => {
      const key = crypto.randomUUID();
      const mine = await send(feed.http, body("per identity"), await as(who(5), key));
      const theirs = await send(feed.http, body("per identity"), await as(who(6), key));
      expect(theirs).toMatchObject({ status: 201, replayed: null });
      expect(theirs.body.id).not.toBe(mine.body.id);
      expect(await stored("per identity")).toBe(2);
    });

    test("a retry after a first attempt that never stored the post stores it, once", async () => {
      const key = crypto.randomUUID();
      {
        // The key document goes in; the post's insert (and the driver's retry of it) lose their connection:
        // both were sent, so the server cannot know whether MongoDB stored the post (504, not "retry" 503).
        await using _outage = await failPoint(mongo.driver, {
          mode: { skip: 1 },
          data: { failCommands: ["insert"], closeConnection: true, appName: "mongo-feed" },
        });
        expect((await send(feed.http, body("completed later"), await as(who(7), key))).status).toBe(504);
      }
      expect(await stored("completed later")).toBe(0);
      const retry = await send(other.http, body("completed later"), await as(who(7), key));
      expect(retry).toMatchObject({ status: 201, replayed: null });
      expect((await send(feed.http, body("completed later"), await as(who(7), key))).replayed).toBe("true");
      expect(await stored("completed later")).toBe(1);
    });

    for (const bad of ["", "has space", "k".repeat(129), "caf\u00e9"]) {
      test(`refuses the key ${JSON.stringify(bad.length > 20 ? `${bad.slice(0, 8)}… (${bad.length})` : bad)} with 400`, async () => {
        const headers = await as(who(8), "placeholder");
        const response = await fetch(`${feed.http}/posts`, {
          method: "POST",
          headers: { "Content-Type": "application/json", ...headers, "Idempotency-Key": bad },
          body: JSON.stringify(body("bad key")),
        });
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({ detail: "Idempotency-Key must be 1 to 128 visible ASCII characters" });
        expect(await stored("bad key")).toBe(0);
      });
    }

    test("keys are forgotten by a TTL index after 24 hours", async () => {
      const indexes = await mongo.driver.db(database).collection("idempotency_keys").listIndexes().toArray();
      expect(indexes).toContainEqual(expect.objectContaining({ key: { createdAt: 1 }, expireAfterSeconds: 86_400 }));
    });
  });
}
