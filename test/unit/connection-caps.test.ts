// Defends: one client can never fill the descriptor table: connections are counted in total and per address,
// a refused claim takes nothing, and a slot is given back once. The end-to-end guarantee (429 answers, close
// callbacks) is in test/connection-caps.test.ts.
import { expect, test } from "bun:test";
import { ConnectionCaps } from "../../src/feed/connection-caps.ts";

test("claims succeed up to the per-address cap, then name that cap", () => {
  const caps = new ConnectionCaps({ total: 10, perAddress: 2 });
  expect(caps.claim("203.0.113.9")).toBeUndefined();
  expect(caps.claim("203.0.113.9")).toBeUndefined();
  expect(caps.claim("203.0.113.9")).toBe("per-address");
  expect(caps.claim("198.51.100.7")).toBeUndefined();
  expect(caps.total).toBe(3);
});

test("the total cap is checked first, whatever the address holds", () => {
  const caps = new ConnectionCaps({ total: 2, perAddress: 1 });
  expect(caps.claim("a")).toBeUndefined();
  expect(caps.claim("b")).toBeUndefined();
  expect(caps.claim("a")).toBe("total");
  expect(caps.claim("c")).toBe("total");
  expect(caps.total).toBe(2);
});

test("a refused claim takes no slot", () => {
  const caps = new ConnectionCaps({ total: 5, perAddress: 1 });
  caps.claim("a");
  for (let attempt = 0; attempt < 3; attempt++) expect(caps.claim("a")).toBe("per-address");
  expect(caps.total).toBe(1);
  caps.release("a");
  expect(caps.total).toBe(0);
  expect(caps.claim("a")).toBeUndefined();
});

test("a release frees a slot for its address and for the total", () => {
  const caps = new ConnectionCaps({ total: 2, perAddress: 2 });
  caps.claim("a");
  caps.claim("a");
  expect(caps.claim("b")).toBe("total");
  caps.release("a");
  expect(caps.claim("b")).toBeUndefined();
  expect(caps.claim("a")).toBe("total");
});

test("releasing more than was claimed changes nothing", () => {
  const caps = new ConnectionCaps({ total: 3, perAddress: 1 });
  caps.claim("a");
  caps.release("a");
  caps.release("a");
  caps.release("never-claimed");
  expect(caps.total).toBe(0);
  expect(caps.claim("a")).toBeUndefined();
  expect(caps.claim("a")).toBe("per-address");
});
