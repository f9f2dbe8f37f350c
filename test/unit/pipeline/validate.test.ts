// Handlers only ever see valid input: a bad segment names nothing (404), a bad query or body is a 400 with issues.
import { expect, test } from "bun:test";
import { matchRoute } from "../../../src/http/pipeline/match-route.ts";
import { resolveUrl } from "../../../src/http/pipeline/resolve-url.ts";
import { validate } from "../../../src/http/pipeline/validate.ts";
import { OriginPolicy } from "../../../src/http/origin-policy.ts";
import { createPost, exchangeFor, getPost, observed, run } from "./pipeline-fixture.ts";

const steps = () => [
  resolveUrl(observed().observations),
  matchRoute([getPost, createPost], new OriginPolicy({ kind: "same-origin" })),
  validate,
];
const id = "0123456789abcdef01234567";

test("sets the parsed params and query", async () => {
  const exchange = exchangeFor(`http://localhost/posts/${id}?verbose=1`);
  await run(exchange, steps());
  expect(exchange.input).toEqual({ params: { id }, query: { verbose: "1" }, body: undefined });
});

test("a path segment its schema refuses is a 404 with the schema's words", () => {
  expect(run(exchangeFor("http://localhost/posts/nope"), steps())).rejects.toMatchObject({ status: 404, detail: "No post has this id" });
});

test("an unknown query parameter is a 400", () => {
  expect(run(exchangeFor(`http://localhost/posts/${id}?limit=5`), steps())).rejects.toMatchObject({ status: 400 });
});

test("a body that is not a JSON object names the fields it needs", () => {
  const exchange = exchangeFor("http://localhost/posts", { method: "POST", headers: { "Content-Type": "application/json" }, body: "[1]" });
  expect(run(exchange, steps())).rejects.toMatchObject({ status: 400, detail: "The post is not valid" });
});

test("a valid body is parsed", async () => {
  const body = JSON.stringify({ content: "hi" });
  const exchange = exchangeFor("http://localhost/posts", { method: "POST", headers: { "Content-Type": "application/json" }, body });
  await run(exchange, steps());
  expect(exchange.input?.body).toEqual({ content: "hi" });
});
