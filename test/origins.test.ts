// Defends: only allowed browser origins get CORS grants and may open the feed (cross-site WebSocket hijacking); without ALLOWED_ORIGINS, only the server's own origin.
import { describe, expect, test } from "bun:test";
import { FeedClient } from "./support/feed-client.ts";
import { useFeed, useMongo } from "./support/harness.ts";
import { rawHandshake } from "./support/raw-handshake.ts";
import { claims, randomSecret, signHs256 } from "./support/tokens.ts";

const APP = "https://app.example.com";
const EVIL = "https://evil.example";

const mongo = useMongo();
const secret = randomSecret();
const listed = useFeed({ mongo, database: "origins", env: { AUTH_JWT_SECRET: secret, ALLOWED_ORIGINS: `${APP}, http://localhost:3000` } });
const sameOrigin = useFeed({ mongo, database: "same_origin" });

const preflight = (http: string, origin: string, method = "POST") =>
  fetch(`${http}/posts`, {
    method: "OPTIONS",
    headers: {
      Origin: origin,
      "Access-Control-Request-Method": method,
      "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
    },
  });

describe("CORS", () => {
  test("a preflight from an allowed origin is granted: the origin, the methods, the headers and a Max-Age", async () => {
    const response = await preflight(listed.http, APP);
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(APP);
    expect(response.headers.get("access-control-allow-methods")).toBe("GET, POST, HEAD");
    expect(response.headers.get("access-control-allow-headers")).toBe("Authorization, Content-Type, Idempotency-Key");
    expect(response.headers.get("access-control-max-age")).toBe("600");
    expect(response.headers.get("vary")).toContain("Origin");
  });

  test("a preflight from another origin gets no CORS headers at all", async () => {
    const response = await preflight(listed.http, EVIL);
    expect(response.status).toBe(204);
    for (const [name] of response.headers) expect(name.startsWith("access-control-")).toBe(false);
  });

  test("answers to an allowed origin, errors included, carry its grant and expose the headers scripts need", async () => {
    const jwt = await signHs256(secret, claims());
    const created = await fetch(`${listed.http}/posts`, {
      method: "POST",
      headers: { Origin: APP, "Content-Type": "application/json", Authorization: `Bearer ${jwt}` },
      body: JSON.stringify({ content: "from the app" }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("access-control-allow-origin")).toBe(APP);
    expect(created.headers.get("access-control-expose-headers")).toContain("Location");
    const refused = await fetch(`${listed.http}/posts`, { method: "POST", headers: { Origin: APP } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe(APP);
    expect(refused.headers.get("access-control-expose-headers")).toContain("WWW-Authenticate");
    const foreign = await fetch(`${listed.http}/posts`, { headers: { Origin: EVIL, Authorization: `Bearer ${jwt}` } });
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("without ALLOWED_ORIGINS no other origin gets a grant", async () => {
    const response = await preflight(sameOrigin.http, APP);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    const list = await fetch(`${sameOrigin.http}/posts`, { headers: { Origin: APP } });
    expect(list.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("the WebSocket Origin check", () => {
  for (const [mode, target, allowed] of [
    ["listed origins", () => listed, APP],
    ["same origin only", () => sameOrigin, undefined],
  ] as const) {
    test(`${mode}: a foreign Origin is refused with 403 problem+json before any upgrade`, async () => {
      const answer = await rawHandshake(target().ws, { Origin: EVIL });
      expect(answer.status).toBe(403);
      expect(answer.headers["content-type"]).toBe("application/problem+json");
      expect(answer.headers.upgrade).toBeUndefined();
      expect(JSON.parse(answer.body)).toMatchObject({ status: 403, detail: expect.stringContaining("ALLOWED_ORIGINS") });
      expect((await rawHandshake(target().ws, { Origin: "null" })).status).toBe(403);
    });

    test(`${mode}: the server's own origin, an allowed one, and no Origin (not a browser) are served`, async () => {
      const jwt = await signHs256(secret, claims());
      const protocols = target() === listed ? ["mongo-feed.v1", `bearer.${jwt}`] : undefined;
      const own = `http://${new URL(target().http).host}`;
      for (const origin of [own, ...(allowed ? [allowed] : []), undefined]) {
        const opened = target().observed.next("socket-opened"); // a refused socket is never opened
        const client = await FeedClient.connect(target().ws, {
          ...(protocols ? { protocols } : {}),
          headers: origin ? { Origin: origin } : {},
        });
        await opened;
        client.close();
      }
    });
  }
});
