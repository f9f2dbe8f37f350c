// Defends: nothing a client sends causes a 500 or shows a stack trace; requests Bun cannot even parse are refused cleanly, and a client hanging up is not an error.
import { describe, expect, test } from "bun:test";
import { serverErrorHandler } from "../src/http/problem.ts";
import { createLogger } from "../src/observability/logger.ts";
import { useFeed } from "./support/harness.ts";
import { expectNoInternals, rawRequest } from "./support/raw-http.ts";

const feed = useFeed({ database: "raw", env: { LOG_LEVEL: "debug" } });

describe("requests without a usable Host", () => {
  const cases = [
    { name: "HTTP/1.0 without Host", request: "GET /health/live HTTP/1.0\r\n\r\n" },
    { name: "a Host with a space", request: "GET /health/live HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n" },
    { name: "an empty Host", request: "GET /posts HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n" },
    { name: "an unterminated IPv6 Host", request: "GET /posts HTTP/1.1\r\nHost: [::1\r\nConnection: close\r\n\r\n" },
    { name: "a CONNECT target", request: "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nConnection: close\r\n\r\n" },
  ];
  for (const { name, request } of cases) {
    test(`${name} gets a 400 problem, not a 500 with a stack trace`, async () => {
      const answer = await rawRequest(feed.http, request);
      expect(answer.status).toBe(400);
      expect(answer.headers["content-type"]).toBe("application/problem+json");
      expect(JSON.parse(answer.body)).toEqual({
        type: "about:blank",
        title: "Bad Request",
        status: 400,
        detail: "The request needs a valid Host header and an origin-form target (/path)",
      });
      expectNoInternals(answer.raw);
    });
  }

  test("HTTP/1.1 without Host is refused by Bun itself with a bare 400", async () => {
    const answer = await rawRequest(feed.http, "GET /health/live HTTP/1.1\r\nConnection: close\r\n\r\n");
    expect(answer.status).toBe(400);
    expectNoInternals(answer.raw);
  });
});

describe("odd methods", () => {
  test("known methods without a route get 405 with Allow", async () => {
    for (const method of ["TRACE", "PUT"]) {
      const answer = await rawRequest(feed.http, `${method} /posts HTTP/1.1\r\nHost: feed.localhost\r\nConnection: close\r\n\r\n`);
      expect(answer.status).toBe(405);
      expect(answer.headers.allow).toContain("GET");
      expectNoInternals(answer.raw);
    }
  });

  test("methods Bun's parser does not know are dropped without an answer (oven-sh/bun#35299), and the server carries on", async () => {
    for (const method of ["FOO", "get", "BREW"]) {
      const answer = await rawRequest(feed.http, `${method} / HTTP/1.1\r\nHost: feed.localhost\r\nConnection: close\r\n\r\n`);
      expect(answer.closed).toBe(true);
      // Today Bun closes the connection silently; if it ever answers, it must not be a 500 or show internals.
      if (answer.status !== undefined) expect(answer.status).toBeLessThan(500);
      expectNoInternals(answer.raw);
    }
    expect((await fetch(`${feed.http}/health/live`)).status).toBe(200);
  });
});

test("a client that hangs up in the middle of a body is logged at debug, not as an error", async () => {
  const aborted = feed.observed.next("request-aborted");
  const head = "POST /posts HTTP/1.1\r\nHost: feed.localhost\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n";
  await rawRequest(feed.http, `${head}{"author":"a","content":"`, { hangUpAfterMs: 50 });
  expect(await aborted).toEqual({ type: "request-aborted", method: "POST", path: "/posts" });
  expect(feed.logs.find((line) => line.event === "request-aborted")?.level).toBe("debug");
  expect(feed.logs.filter((line) => line.level === "error")).toEqual([]);
});

test("a genuine bug reaching Bun's error handler answers a logged 500 problem without details", async () => {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("debug", (line) => lines.push(JSON.parse(line)));
  using server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    development: false,
    fetch() {
      throw new Error("secret detail at /work/src/thing.ts:12");
    },
    error: serverErrorHandler(log),
  });
  const response = await fetch(server.url);
  expect(response.status).toBe(500);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  const body = await response.text();
  expect(JSON.parse(body)).toEqual({
    type: "about:blank",
    title: "Internal Server Error",
    status: 500,
    detail: "Something went wrong on our side; it has been logged",
  });
  expect(body).not.toContain("secret");
  expect(lines).toMatchObject([{ level: "error", error: { message: "secret detail at /work/src/thing.ts:12" } }]);
});
