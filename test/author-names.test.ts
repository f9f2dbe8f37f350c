// Defends issue 19: an author name must show something. Invisible characters (Unicode's
// default-ignorable code points: zero-width spaces and joiners, Hangul fillers, variation
// selectors…) and names made only of combining marks are refused, from a body (400) and from a
// token's name claim (403), so nobody posts as "" or as a look-alike of "admin".
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startMongoTarget, uniqueDatabase, type MongoTarget } from "./support/mongo-target.ts";
import { postJson, startTestFeed, type TestFeed } from "./support/test-feed.ts";
import { claims, randomSecret, signHs256 } from "./support/tokens.ts";

const INVISIBLE = "author must not contain invisible characters";
const NOTHING_VISIBLE = "author must contain a visible character (not only spaces or combining marks)";
const secret = randomSecret();
let mongo: MongoTarget;
let open: TestFeed;
let authed: TestFeed;

beforeAll(async () => {
  mongo = await startMongoTarget();
  open = await startTestFeed(mongo.uri(uniqueDatabase("names_open")));
  authed = await startTestFeed(mongo.uri(uniqueDatabase("names_auth")), { AUTH_JWT_SECRET: secret });
});
afterAll(async () => {
  await open?.close();
  await authed?.close();
  await mongo?.[Symbol.asyncDispose]();
});

const refused: [string, string, string][] = [
  ["a zero-width space", "\u200b", INVISIBLE],
  ["a Hangul filler", "\u3164", INVISIBLE],
  ["a halfwidth Hangul filler", "\uffa0", INVISIBLE],
  ["a Hangul choseong filler", "\u115f", INVISIBLE],
  ["a zero-width joiner inside", "ad\u200dmin", INVISIBLE],
  ["a word joiner", "ad\u2060min", INVISIBLE],
  ["a byte order mark inside (one in front is trimmed)", "ad\ufeffmin", INVISIBLE],
  ["a variation selector", "admin\ufe0f", INVISIBLE],
  ["a soft hyphen", "ad\u00admin", INVISIBLE],
  ["only combining marks", "\u0301\u0301", NOTHING_VISIBLE],
  ["a space between combining marks", "\u0301 \u0301", NOTHING_VISIBLE],
];

describe("a body author (auth off)", () => {
  for (const [what, author, message] of refused) {
    test(`with ${what} is refused with 400 and says why`, async () => {
      const response = await postJson(open.http, { author, content: "hello" });
      expect(response.status).toBe(400);
      const problem = (await response.json()) as { issues: { path: string; message: string }[] };
      expect(problem.issues).toEqual([{ path: "author", message: expect.stringContaining(message) }]);
    });
  }

  for (const author of ["Zoë", "Zoe\u0308", "李雷", "Ada Lovelace", "🙂", "\u0915\u094d\u0937"]) {
    test(`${JSON.stringify(author)} is accepted`, async () => {
      const response = await postJson(open.http, { author, content: "hello" });
      expect(response.status).toBe(201);
      expect(((await response.json()) as { author: string }).author).toBe(author);
    });
  }
});

describe("a token's name claim (auth on)", () => {
  for (const [what, name] of [
    ["a zero-width space", "\u200b"],
    ["a Hangul filler", "\u3164"],
    ["only combining marks", "\u0301\u0301"],
  ]) {
    test(`with ${what} cannot be an author: 403 and why`, async () => {
      const response = await fetch(`${authed.http}/posts`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${await signHs256(secret, claims({ name }))}` },
        body: JSON.stringify({ content: "hello" }),
      });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { detail: string }).detail).toStartWith(
        "your token's name claim cannot be an author name: author must",
      );
    });
  }
});
