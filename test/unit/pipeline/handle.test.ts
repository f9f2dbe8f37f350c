// The last step: the route's handler with its validated input, and the pipeline's order enforced.
import { expect, test } from "bun:test";
import { handle } from "../../../src/http/pipeline/handle.ts";
import { matchRoute } from "../../../src/http/pipeline/match-route.ts";
import { resolveUrl } from "../../../src/http/pipeline/resolve-url.ts";
import { validate } from "../../../src/http/pipeline/validate.ts";
import { OriginPolicy } from "../../../src/http/origin-policy.ts";
import { exchangeFor, getPost, observed, run } from "./pipeline-fixture.ts";

const origins = new OriginPolicy({ kind: "same-origin" });
const id = "0123456789abcdef01234567";

test("calls the route's handler with its input", async () => {
  const response = await run(
    exchangeFor(`http://localhost/posts/${id}`),
    [resolveUrl(observed().observations), matchRoute([getPost], origins), validate],
    handle,
  );
  expect(await response?.json()).toEqual({ params: { id }, query: {} });
});

test("refuses to run before validate: a wiring error, not a client's", () => {
  expect(
    run(exchangeFor(`http://localhost/posts/${id}`), [resolveUrl(observed().observations), matchRoute([getPost], origins)], handle),
  ).rejects.toThrow("handle must come after validate");
});
