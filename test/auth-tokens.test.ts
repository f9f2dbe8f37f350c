// Defends: only tokens signed by the configured key source, unexpired, for this issuer and audience, with a subject, get in; every forged or broken one is refused (401 / close 4401) with nothing stored or sent.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FeedClient } from "./support/feed-client.ts";
import { useFeed, useMongo } from "./support/harness.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { startTestFeed } from "./support/test-feed.ts";
import {
  claims,
  JwksServer,
  nowSeconds,
  randomSecret,
  signHs256,
  signingKey,
  signWith,
  unsecured,
  type SigningKey,
} from "./support/tokens.ts";

const ISSUER = "https://id.test/";
const AUDIENCE = "mongo-feed";

const mongo = useMongo();
let jwks: JwksServer;
let published: SigningKey;
const secret = randomSecret();

beforeAll(async () => {
  jwks = new JwksServer();
  published = await jwks.publish("RS256");
  await jwks.publish("ES256");
  await jwks.publish("EdDSA");
});
// After the target's afterAll (hooks run in the order declared), which closes the feed that reads the JWKS.
afterAll(async () => {
  await jwks?.[Symbol.asyncDispose]();
});

const jwksFeed = useFeed({
  mongo,
  database: "tokens_jwks",
  env: () => ({
    AUTH_JWKS_URL: jwks.url,
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
    AUTH_JWKS_COOLDOWN_SECONDS: "0", // every unknown kid refetches: the rotation below needs no waiting
  }),
});
const secretFeed = useFeed({ mongo, database: "tokens_secret", env: { AUTH_JWT_SECRET: secret } });

const valid = () => claims({ iss: ISSUER, aud: AUDIENCE });
const post = (http: string, token: string) =>
  fetch(`${http}/posts`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ content: "hello" }),
  });

type Forged = { name: string; token: () => Promise<string> | string; reason: string };

const forgedForJwks: Forged[] = [
  {
    name: "signed by a key the JWKS does not hold, under a published kid",
    token: async () => signWith({ ...(await signingKey("RS256")), kid: published.kid }, valid()),
    reason: "the token's signature does not verify",
  },
  {
    name: "signed by an unknown key",
    token: async () => signWith(await signingKey("RS256"), valid()),
    reason: "no key matches the token's key id (kid)",
  },
  { name: "alg: none", token: () => unsecured(valid()), reason: "the token's algorithm is not accepted (only RS256, ES256, EdDSA)" },
  {
    name: "HS256 signed with the RSA public key as the secret",
    token: () => signHs256(new TextEncoder().encode(published.publicPem), valid(), { kid: published.kid }),
    reason: "the token's algorithm is not accepted (only RS256, ES256, EdDSA)",
  },
  { name: "expired", token: () => signWith(published, { ...valid(), exp: nowSeconds() - 60 }), reason: "the token has expired" },
  {
    name: "nbf in the future",
    token: () => signWith(published, { ...valid(), nbf: nowSeconds() + 60 }),
    reason: "the token is not valid yet (nbf)",
  },
  {
    name: "the wrong issuer",
    token: () => signWith(published, { ...valid(), iss: "https://evil.test/" }),
    reason: "the token's issuer (iss) is not accepted",
  },
  {
    name: "the wrong audience",
    token: () => signWith(published, { ...valid(), aud: "another-api" }),
    reason: "the token's audience (aud) is not accepted",
  },
  {
    name: "no sub",
    token: () => signWith(published, claims({ iss: ISSUER, aud: AUDIENCE, sub: undefined })),
    reason: "the token has no subject (sub)",
  },
  {
    name: "no exp",
    token: () => signWith(published, claims({ iss: ISSUER, aud: AUDIENCE, exp: undefined })),
    reason: "the token has no expiry (exp)",
  },
  { name: "a malformed token", token: () => "a.b.c", reason: "the token is malformed" },
  { name: "not a token at all", token: () => "hello", reason: "the token is malformed" },
];

const forgedForSecret: Forged[] = [
  { name: "signed with another secret", token: () => signHs256(randomSecret(), claims()), reason: "the token's signature does not verify" },
  { name: "alg: none", token: () => unsecured(claims()), reason: "the token's algorithm is not accepted (only HS256)" },
  {
    name: "RS256 (an asymmetric algorithm)",
    token: async () => signWith(await signingKey("RS256"), claims()),
    reason: "the token's algorithm is not accepted (only HS256)",
  },
  {
    name: "expired beyond the 5 s tolerance",
    token: () => signHs256(secret, claims({ exp: nowSeconds() - 10 })),
    reason: "the token has expired",
  },
  {
    name: "nbf in the future",
    token: () => signHs256(secret, claims({ nbf: nowSeconds() + 60 })),
    reason: "the token is not valid yet (nbf)",
  },
  { name: "no sub", token: () => signHs256(secret, claims({ sub: undefined })), reason: "the token has no subject (sub)" },
  {
    name: "a numeric sub",
    token: () => signHs256(secret, claims({ sub: 42 as unknown as string })),
    reason: "the token's subject (sub) must be a non-empty string",
  },
];

for (const [mode, table] of [
  ["JWKS", forgedForJwks],
  ["HS256 secret", forgedForSecret],
] as const) {
  describe(`${mode}: forged and broken tokens`, () => {
    const feed = () => (mode === "JWKS" ? jwksFeed : secretFeed);
    const collection = () => (mode === "JWKS" ? jwksFeed.posts : secretFeed.posts);

    for (const forged of table) {
      test(`${forged.name}: POST answers 401 with WWW-Authenticate, and nothing is stored`, async () => {
        const token = await forged.token();
        const before = await collection().countDocuments();
        const response = await post(feed().http, token);
        expect(response.status).toBe(401);
        expect(response.headers.get("www-authenticate")).toBe(`Bearer error="invalid_token", error_description="${forged.reason}"`);
        expect(response.headers.get("content-type")).toBe("application/problem+json");
        const problem = (await response.json()) as { status: number; detail: string };
        expect(problem).toMatchObject({ status: 401, title: "Unauthorized", detail: `Authentication failed: ${forged.reason}` });
        expect(JSON.stringify(problem)).not.toContain(token);
        expect(await collection().countDocuments()).toBe(before);
      });

      test(`${forged.name}: the WebSocket closes with 4401 and the reason, nothing replayed or sent`, async () => {
        const token = await forged.token();
        const client = await FeedClient.connect(`${feed().ws}?since=8200000000000000000000`, {
          protocols: ["mongo-feed.v1", `bearer.${token}`],
        });
        expect(await client.closed).toEqual({ code: 4401, reason: forged.reason });
        expect(client.frames).toEqual([]);
      });
    }
  });
}

describe("JWKS key rotation and availability", () => {
  test("a kid published after the keys were fetched is fetched and accepted", async () => {
    expect((await post(jwksFeed.http, await signWith(published, valid()))).status).toBe(201);
    const fetchesBefore = jwks.fetches;
    const rotated = await jwks.publish("ES256"); // the identity provider rotates in a new key
    const response = await post(jwksFeed.http, await signWith(rotated, { ...valid(), sub: "rotated-user" }));
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ authorId: "rotated-user" });
    expect(jwks.fetches).toBe(fetchesBefore + 1);
  });

  test("within the cooldown an unknown kid does not refetch the JWKS (a flood of made-up kids cannot flood the provider)", async () => {
    await using provider = new JwksServer();
    const first = await provider.publish("RS256");
    await using feed = await startTestFeed(mongo.uri(uniqueDatabase("tokens_cooldown")), {
      AUTH_JWKS_URL: provider.url,
      AUTH_ISSUER: ISSUER,
      AUTH_AUDIENCE: AUDIENCE,
    });
    expect((await post(feed.http, await signWith(first, valid()))).status).toBe(201);
    expect(provider.fetches).toBe(1);
    const late = await provider.publish("RS256");
    for (let n = 0; n < 5; n++) expect((await post(feed.http, await signWith(late, valid()))).status).toBe(401);
    expect(provider.fetches).toBe(1);
  });

  test("an unreachable JWKS is the server's problem, not the token's: 503 with Retry-After, and close 1013", async () => {
    await using provider = new JwksServer();
    const key = await provider.publish("RS256");
    provider.failing = true;
    const database = uniqueDatabase("tokens_down");
    await using feed = await startTestFeed(mongo.uri(database), {
      AUTH_JWKS_URL: provider.url,
      AUTH_ISSUER: ISSUER,
      AUTH_AUDIENCE: AUDIENCE,
      AUTH_JWKS_COOLDOWN_SECONDS: "1", // a failed fetch is retried after the cooldown (issue 19), by the server itself
    });
    const token = await signWith(key, valid());
    const response = await post(feed.http, token);
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(response.headers.get("www-authenticate")).toBeNull();
    const client = await FeedClient.connect(feed.ws, { protocols: ["mongo-feed.v1", `bearer.${token}`] });
    expect(await client.closed).toEqual({ code: 1013, reason: "cannot check tokens right now; reconnect shortly" });
    await feed.observed.waitFor("jwks-unavailable");
    expect(await mongo.driver.db(database).collection("posts").countDocuments()).toBe(0);
    const back = feed.observed.next("jwks-available");
    provider.failing = false;
    await back;
    expect((await post(feed.http, token)).status).toBe(201);
  });
});
