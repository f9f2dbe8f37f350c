// Defends: per-address limits count the real client: X-Forwarded-For is believed only from trusted proxies, read right to left.
import { expect, test } from "bun:test";
import { clientAddressResolver, type ProxyTrust } from "../src/http/client-address.ts";

/** A real server on loopback that answers with the address the resolver found. */
function serverWith(trust: ProxyTrust) {
  let ignored = 0;
  const addressOf = clientAddressResolver(trust, () => ignored++);
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (request, server) => new Response(addressOf(request, server)) });
  const ask = async (forwardedFor?: string) =>
    (await fetch(server.url, { headers: forwardedFor === undefined ? {} : { "X-Forwarded-For": forwardedFor } })).text();
  return { ask, ignored: () => ignored, [Symbol.dispose]: () => server.stop(true) };
}

test("without trust, the socket's peer is the client, and ignoring X-Forwarded-For is reported once", async () => {
  using server = serverWith({ hops: "none" });
  expect(await server.ask()).toBe("127.0.0.1");
  expect(await server.ask("203.0.113.9")).toBe("127.0.0.1");
  expect(await server.ask("203.0.113.10")).toBe("127.0.0.1");
  expect(server.ignored()).toBe(1);
});

test("with one trusted proxy, the last hop it appended is the client, whatever the client wrote before it", async () => {
  using server = serverWith({ hops: "one" });
  expect(await server.ask("203.0.113.9")).toBe("203.0.113.9");
  expect(await server.ask("6.6.6.6, 203.0.113.9")).toBe("203.0.113.9");
  expect(await server.ask("not-an-address")).toBe("127.0.0.1");
  expect(await server.ask()).toBe("127.0.0.1");
});

test("with listed proxies, hops are skipped right to left while they are trusted", async () => {
  using server = serverWith({ hops: "listed", proxies: ["127.0.0.1", "10.0.0.0/8"] });
  expect(await server.ask("6.6.6.6, 203.0.113.9, 10.1.2.3")).toBe("203.0.113.9");
  expect(await server.ask("10.9.9.9, 10.1.2.3")).toBe("10.9.9.9");
  expect(await server.ask("203.0.113.9, garbage, 10.1.2.3")).toBe("127.0.0.1");
});

test("listed proxies that do not include the peer are not believed", async () => {
  using server = serverWith({ hops: "listed", proxies: ["10.0.0.0/8"] });
  expect(await server.ask("203.0.113.9")).toBe("127.0.0.1");
});
