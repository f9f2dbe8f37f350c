// Defends issue 19: DNS rebinding. A page on attacker.test whose name resolves to this server is
// same-origin with it; only the Host header tells them apart. Unless ALLOWED_HOSTS says otherwise,
// a Host that is not a loopback name or an IP literal is answered 421 (before any CORS grant or
// upgrade) when auth is off; with auth on any Host is answered (a page cannot borrow a token).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startMongoTarget, uniqueDatabase, type MongoTarget } from "./support/mongo-target.ts";
import { rawRequest } from "./support/raw-http.ts";
import { startTestFeed, type TestFeed } from "./support/test-feed.ts";
import { randomSecret } from "./support/tokens.ts";

let mongo: MongoTarget;
let open: TestFeed;
let listed: TestFeed;
let authed: TestFeed;
let any: TestFeed;

beforeAll(async () => {
  mongo = await startMongoTarget();
  open = await startTestFeed(mongo.uri(uniqueDatabase("hosts_open")));
  listed = await startTestFeed(mongo.uri(uniqueDatabase("hosts_listed")), { ALLOWED_HOSTS: "feed.example.com, Other.Example" });
  authed = await startTestFeed(mongo.uri(uniqueDatabase("hosts_auth")), { AUTH_JWT_SECRET: randomSecret() });
  any = await startTestFeed(mongo.uri(uniqueDatabase("hosts_any")), { ALLOWED_HOSTS: "*" });
});
afterAll(async () => {
  for (const feed of [open, listed, authed, any]) await feed?.close();
  await mongo?.[Symbol.asyncDispose]();
});

const port = (feed: TestFeed) => new URL(feed.http).port;

/** A GET (or a WebSocket handshake) for `host`, sent byte for byte, with the page's Origin on the same name. */
function request(feed: TestFeed, host: string, { upgrade = false, path = "/health/live" } = {}) {
  const lines = [`GET ${upgrade ? "/" : path} HTTP/1.1`, `Host: ${host}`, `Origin: http://${host}`, "Connection: close"];
  if (upgrade)
    lines.push("Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13");
  return rawRequest(feed.http, `${lines.join("\r\n")}\r\n\r\n`, { timeoutMs: 2_000 });
}

describe("auth off, ALLOWED_HOSTS unset", () => {
  test("a rebound name gets 421 problem+json, no CORS grant and no 101", async () => {
    const host = `attacker.test:${port(open)}`;
    for (const upgrade of [false, true]) {
      const answer = await request(open, host, { upgrade });
      expect(answer.status).toBe(421);
      expect(answer.headers["content-type"]).toBe("application/problem+json");
      expect(answer.headers["access-control-allow-origin"]).toBeUndefined();
      expect(JSON.parse(answer.body)).toMatchObject({ status: 421, title: "Misdirected Request" });
    }
  });

  for (const host of ["localhost", "app.localhost", "127.0.0.1", "[::1]", "10.1.2.3"]) {
    test(`${host} is answered, and a WebSocket handshake for it upgrades`, async () => {
      expect((await request(open, `${host}:${port(open)}`)).status).toBe(200);
      expect((await request(open, `${host}:${port(open)}`, { upgrade: true })).status).toBe(101);
    });
  }

  test("startup says what is accepted", () => {
    expect(open.logs.find((line) => line.event === "hosts-accepted")).toMatchObject({
      level: "info",
      hosts: "loopback names (localhost) and IP literals only (auth is off; set ALLOWED_HOSTS to add names)",
    });
  });
});

describe("ALLOWED_HOSTS set", () => {
  test("a listed name (any case) is answered; another gets 421", async () => {
    expect((await request(listed, `FEED.example.com:${port(listed)}`)).status).toBe(200);
    expect((await request(listed, `other.example:${port(listed)}`, { upgrade: true })).status).toBe(101);
    expect((await request(listed, `attacker.test:${port(listed)}`)).status).toBe(421);
    expect((await request(listed, `localhost:${port(listed)}`)).status).toBe(200);
  });

  test("* answers any name", async () => {
    expect((await request(any, `attacker.test:${port(any)}`)).status).toBe(200);
  });

  test("a malformed list stops startup with the reason", async () => {
    await expect(startTestFeed(mongo.uri(uniqueDatabase("hosts_bad")), { ALLOWED_HOSTS: "https://feed.example.com" })).rejects.toThrow(
      "ALLOWED_HOSTS (--allowed-hosts) must be *, or host names",
    );
  });
});

test("with auth on and ALLOWED_HOSTS unset any name is answered", async () => {
  expect((await request(authed, `feed.example.com:${port(authed)}`)).status).toBe(200);
  expect(authed.logs.find((line) => line.event === "hosts-accepted")).toMatchObject({ hosts: expect.stringMatching(/^any host/) });
});
