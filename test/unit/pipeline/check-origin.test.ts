// A browser on a foreign page must not open the feed: 403 before any upgrade. Plain requests are not its concern.
import { expect, test } from "bun:test";
import { checkOrigin } from "../../../src/http/pipeline/check-origin.ts";
import { matchRoute } from "../../../src/http/pipeline/match-route.ts";
import { resolveUrl } from "../../../src/http/pipeline/resolve-url.ts";
import { OriginPolicy } from "../../../src/http/origin-policy.ts";
import { exchangeFor, feed, observed, run } from "./pipeline-fixture.ts";

const origins = new OriginPolicy({ kind: "same-origin" });
const steps = () => {
  const { observations } = observed();
  return [resolveUrl(observations), matchRoute([feed], origins), checkOrigin(origins, observations)];
};
const upgrade = (origin: string) => ({ headers: { Host: "localhost", Upgrade: "websocket", Origin: origin } });

test("refuses a handshake from another origin with 403", () => {
  expect(run(exchangeFor("http://localhost/", upgrade("https://evil.example")), steps())).rejects.toMatchObject({ status: 403 });
});

test("lets a same-origin handshake through", async () => {
  expect(await (await run(exchangeFor("http://localhost/", upgrade("http://localhost")), steps()))?.text()).toBe("reached");
});

test("lets a plain GET of the same route through whatever its Origin", async () => {
  const response = await run(exchangeFor("http://localhost/", { headers: { Origin: "https://evil.example" } }), steps());
  expect(await response?.text()).toBe("reached");
});
