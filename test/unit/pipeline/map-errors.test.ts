// One mapper: whatever a later step throws becomes problem+json, never a stack trace.
import { expect, test } from "bun:test";
import { mapErrors } from "../../../src/http/pipeline/map-errors.ts";
import { HttpProblem } from "../../../src/http/problem.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { exchangeFor, observed, run } from "./pipeline-fixture.ts";

const quiet = createLogger("error", () => {});

test("an HttpProblem becomes its problem+json answer", async () => {
  const { observations } = observed();
  const response = await run(exchangeFor("http://localhost/x"), [mapErrors(quiet, observations)], async () => {
    throw new HttpProblem(418, "No coffee here");
  });
  expect(response?.status).toBe(418);
  expect(response?.headers.get("Content-Type")).toContain("application/problem+json");
  expect(await response?.json()).toMatchObject({ status: 418, detail: "No coffee here" });
});

test("an unexpected error is a 500 that says nothing of its insides", async () => {
  const lines: string[] = [];
  const response = await run(
    exchangeFor("http://localhost/x"),
    [
      mapErrors(
        createLogger("error", (line) => lines.push(line)),
        observed().observations,
      ),
    ],
    async () => {
      throw new Error("secret internals");
    },
  );
  expect(response?.status).toBe(500);
  expect(await response?.text()).not.toContain("secret internals");
  expect(lines.join("")).toContain("secret internals");
});

test("a client that went away is observed, not logged as an error", async () => {
  const { observations, seen } = observed();
  const controller = new AbortController();
  const exchange = exchangeFor("http://localhost/posts", { signal: controller.signal, method: "POST" });
  controller.abort();
  await run(exchange, [mapErrors(quiet, observations)], async () => {
    throw new DOMException("aborted", "AbortError");
  });
  expect(seen).toEqual([{ type: "request-aborted", method: "POST", path: "" }]);
});
