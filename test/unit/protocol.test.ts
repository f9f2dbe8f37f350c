// Defends: src/protocol is importable by a browser or the typed client (no server imports), and its schemas describe themselves as JSON Schema.
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { schemaOf } from "../../src/http/openapi.ts";
import { feedUpgradeRoute } from "../../src/http/routes/feed-upgrade.ts";
import { healthRoutes } from "../../src/http/routes/health.ts";
import { postsRoutes } from "../../src/http/routes/posts.ts";
import type { AnySchema } from "../../src/http/route.ts";
import { FeedFrameSchema } from "../../src/protocol/frames.ts";

const protocolDir = new URL("../../src/protocol/", import.meta.url).pathname;

describe("src/protocol", () => {
  const transpiler = new Bun.Transpiler({ loader: "ts" });
  for (const file of readdirSync(protocolDir)) {
    test(`${file} imports only valibot and its own folder`, async () => {
      const imports = transpiler.scanImports(await Bun.file(join(protocolDir, file)).text()).map((found) => found.path);
      for (const path of imports) expect(path === "valibot" || /^\.\/[\w-]+\.ts$/.test(path)).toBe(true);
    });
  }
});

describe("schemas as JSON Schema", () => {
  // The routes only hold their dependencies in closures; the table itself is plain data.
  const unused = {} as never;
  const routes = [
    feedUpgradeRoute({ feed: unused, caps: unused, observations: unused }),
    ...postsRoutes({ posts: unused, idempotency: unused, feed: unused, requestTimeoutMs: 0, authOn: false }),
    ...postsRoutes({ posts: unused, idempotency: unused, feed: unused, requestTimeoutMs: 0, authOn: true }),
    ...healthRoutes({ readiness: unused, history: unused, connections: () => 0 }),
  ];
  // The conversion the OpenAPI document uses (`trim` and `to_lower_case` change no JSON type; u-flag patterns go in allOf).
  const convert = (schema: AnySchema, typeMode: "input" | "output") => schemaOf(schema, typeMode);

  for (const route of routes) {
    test(`${route.method} ${route.path}: every request and response schema converts`, () => {
      for (const schema of [route.params, route.query, route.body])
        if (schema) expect(convert(schema, "input")).toMatchObject({ type: "object" });
      for (const response of Object.values(route.responses)) {
        if (typeof response !== "string" && response.schema) expect(convert(response.schema, "output")).toMatchObject({ type: "object" });
      }
    });
  }

  test("the frame union converts, one alternative per frame type", () => {
    const schema = convert(FeedFrameSchema, "output") as { oneOf: { properties: { type: { const: string } } }[] };
    expect(schema.oneOf.map((alternative) => alternative.properties.type.const)).toEqual([
      "insert",
      "update",
      "delete",
      "enter",
      "leave",
      "resync",
      "auth",
    ]);
  });
});
