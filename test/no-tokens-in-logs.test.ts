// Defends: no token, secret or access_token query ever reaches a log line, an observation or an error message, at any log level.
import { expect, test } from "bun:test";
import { FeedClient } from "./support/feed-client.ts";
import { useMongo } from "./support/harness.ts";
import { uniqueDatabase } from "./support/mongo-target.ts";
import { ServerProcess } from "./support/server-process.ts";
import { claims, nowSeconds, randomSecret, signHs256 } from "./support/tokens.ts";

const mongo = useMongo();

test("a server at debug level, used with valid, invalid and expiring tokens every way they travel, logs none of them", async () => {
  const secret = randomSecret();
  await using server = ServerProcess.spawn({
    MONGODB_URI: mongo.uri(uniqueDatabase("log_secrets")),
    AUTH_JWT_SECRET: secret,
    LOG_LEVEL: "debug",
  });
  const { http, ws } = await server.listening();
  const tokens = {
    valid: await signHs256(secret, claims()),
    forged: await signHs256(randomSecret(), claims()),
    expired: await signHs256(secret, claims({ exp: nowSeconds() - 60 })),
    refresh: await signHs256(secret, claims({ exp: nowSeconds() + 900 })),
    otherSub: await signHs256(secret, claims({ sub: "someone-else" })),
    garbage: "abc.def.ghi",
  };

  for (const token of Object.values(tokens)) {
    const headers = { "Content-Type": "application/json", Authorization: `Bearer ${token}`, "Idempotency-Key": crypto.randomUUID() };
    await fetch(`${http}/posts`, { method: "POST", headers, body: JSON.stringify({ content: "x" }) });
    await fetch(`${http}/posts?limit=1`, { headers });
    for (const options of [{ protocols: ["mongo-feed.v1", `bearer.${token}`] }, { headers: { Authorization: `Bearer ${token}` } }, {}]) {
      const client = await FeedClient.connect(Object.keys(options).length ? ws : `${ws}?access_token=${token}`, options);
      client.send({ type: "auth", token: tokens.refresh });
      client.send({ type: "auth", token });
      await Promise.race([client.closed, client.until((frames) => frames.some((frame) => frame.type === "auth"), 5_000).catch(() => {})]);
      client.close();
      await client.closed;
    }
  }
  await fetch(`${http}/nowhere?access_token=${tokens.valid}`);
  await server.waitForEvent("access-refused", (line) => line.transport === "websocket");
  server.kill("SIGTERM");
  expect(await server.exited).toBe(0);

  const everything = `${JSON.stringify(server.logs)}\n${server.stderr}`;
  expect(server.logs.filter((line) => line.event === "access-refused").length).toBeGreaterThan(10); // the refusals were logged...
  for (const [name, token] of Object.entries(tokens)) {
    for (const part of token.split("."))
      if (part.length > 8) expect({ name, found: everything.includes(part) }).toEqual({ name, found: false });
  }
  expect(everything).not.toContain(secret);
  expect(everything).not.toContain("access_token");
});
