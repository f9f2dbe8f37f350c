// Writes spend from their caller's bucket; the bucket's state rides on every answer, the refusal is a 429.
import { expect, test } from "bun:test";
import { matchRoute } from "../../../src/http/pipeline/match-route.ts";
import { rateLimitWrites } from "../../../src/http/pipeline/rate-limit-writes.ts";
import { resolveUrl } from "../../../src/http/pipeline/resolve-url.ts";
import { OriginPolicy } from "../../../src/http/origin-policy.ts";
import { WriteRateLimiter } from "../../../src/http/write-rate-limiter.ts";
import { createPost, exchangeFor, getPost, observed, run } from "./pipeline-fixture.ts";

const steps = (limiter: WriteRateLimiter) => {
  const { observations } = observed();
  return [
    resolveUrl(observations),
    matchRoute([createPost, getPost], new OriginPolicy({ kind: "same-origin" })),
    rateLimitWrites(limiter, observations),
  ];
};

test("a write past the burst is refused with 429", async () => {
  const limiter = new WriteRateLimiter({ perMinute: 60, burst: 1 }, () => 0);
  const post = () => exchangeFor("http://localhost/posts", { method: "POST" });
  const first = post();
  await run(first, steps(limiter));
  expect(Object.keys(first.headers)).toContain("RateLimit-Policy");
  expect(run(post(), steps(limiter))).rejects.toMatchObject({ status: 429 });
});

test("reads spend nothing", async () => {
  const limiter = new WriteRateLimiter({ perMinute: 60, burst: 1 }, () => 0);
  for (let i = 0; i < 3; i++) await run(exchangeFor("http://localhost/posts/abc"), steps(limiter));
  expect(limiter.size).toBe(0);
});
