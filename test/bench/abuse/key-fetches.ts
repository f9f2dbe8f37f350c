// Issue 19's key-fetch count, bounded: with the key server answering 500 (after the cooldown),
// how many fetches and warn lines do 100 sequential and then 300 concurrent forged tokens
// (unsigned, made-up kids) cause? Usage: bun test/bench/abuse/key-fetches.ts [server entry]
import { EmulatorProcess } from "../../support/emulator-process.ts";
import { ServerProcess } from "../../support/server-process.ts";
import { claims } from "../../support/tokens.ts";

const entry = Bun.argv[2] ?? "src/index.ts";
let fetches = 0;
using provider = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch: () => {
    fetches++;
    return new Response("down", { status: 500 });
  },
});
const forged = () => {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "RS256", kid: crypto.randomUUID() })}.${part(claims({ iss: "https://id.test/", aud: "feed" }))}.${part("x")}`;
};

await using emulator = await EmulatorProcess.start();
await using server = ServerProcess.spawn(
  {
    MONGODB_URI: emulator.uri.replace("/?", "/key_fetches?"),
    AUTH_JWKS_URL: `http://127.0.0.1:${provider.port}/jwks.json`,
    AUTH_ISSUER: "https://id.test/",
    AUTH_AUDIENCE: "feed",
    AUTH_JWKS_COOLDOWN_SECONDS: "0", // the issue's case: the cooldown has passed
  },
  ["bun", entry],
);
const { http } = await server.listening(30_000);
const post = (token: string) =>
  fetch(`${http}/posts`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: "{}",
  }).then((response) => response.status);
const statuses = new Map<number, number>();
const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
for (let n = 0; n < 100; n++) count(await post(forged()));
const sequential = fetches;
const started = performance.now();
for (const status of await Promise.all(Array.from({ length: 300 }, () => post(forged())))) count(status);
const warnings = server.logs.filter((line) => line.event === "jwks-unavailable").length;
console.log(
  `${entry}: 100 sequential forged tokens → ${sequential} key fetches; then 300 concurrent → ${fetches - sequential} more in ` +
    `${(performance.now() - started).toFixed(0)} ms; ${warnings} warn lines; answers ${JSON.stringify(Object.fromEntries(statuses))}`,
);
