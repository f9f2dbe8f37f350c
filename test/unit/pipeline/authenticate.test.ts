// Access as each route declares it: HTTP refuses at once, a handshake carries the refusal to be closed in-band.
import { expect, test } from "bun:test";
import { AccessGate } from "../../../src/auth/access-gate.ts";
import type { Verification } from "../../../src/auth/token-verifier.ts";
import { authenticate } from "../../../src/http/pipeline/authenticate.ts";
import { matchRoute } from "../../../src/http/pipeline/match-route.ts";
import { resolveUrl } from "../../../src/http/pipeline/resolve-url.ts";
import { OriginPolicy } from "../../../src/http/origin-policy.ts";
import { createPost, exchangeFor, feed, observed, run } from "./pipeline-fixture.ts";

const gate = new AccessGate(
  { mode: "secret", secret: "x".repeat(32), publicRead: false },
  async (token: string): Promise<Verification> =>
    token === "good"
      ? { ok: true, identity: { sub: "u1", displayName: { claim: "name", value: "ada" }, expiresAt: Date.now() + 60_000 } }
      : { ok: false, failure: "invalid", description: "bad signature" },
);
const steps = () => {
  const { observations } = observed();
  return [
    resolveUrl(observations),
    matchRoute([createPost, feed], new OriginPolicy({ kind: "same-origin" })),
    authenticate(gate, observations),
  ];
};

test("a valid token sets the identity", async () => {
  const exchange = exchangeFor("http://localhost/posts", { method: "POST", headers: { Authorization: "Bearer good" } });
  await run(exchange, steps());
  expect(exchange.identity).toMatchObject({ sub: "u1" });
});

test("a write without a token is a 401", () => {
  expect(run(exchangeFor("http://localhost/posts", { method: "POST" }), steps())).rejects.toMatchObject({ status: 401 });
});

test("an invalid token says why in WWW-Authenticate", () => {
  expect(
    run(exchangeFor("http://localhost/posts", { method: "POST", headers: { Authorization: "Bearer bad" } }), steps()),
  ).rejects.toMatchObject({
    status: 401,
    extras: { headers: { "WWW-Authenticate": 'Bearer error="invalid_token", error_description="bad signature"' } },
  });
});

test("a handshake with a refused token goes on, carrying the refusal", async () => {
  const exchange = exchangeFor("http://localhost/?access_token=bad", { headers: { Upgrade: "websocket" } });
  await run(exchange, steps());
  expect(exchange.refused).toMatchObject({ ok: false, failure: "invalid" });
});
