// Defends: GET /openapi.json is a valid OpenAPI 3.1 document generated from the route table: every route the router serves is in it with exactly its methods, and real answers match its schemas.
import { describe, expect, test } from "bun:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { type FeedFixture, useFeed, useMongo } from "./support/harness.ts";
import { postJson } from "./support/test-feed.ts";
import { randomSecret } from "./support/tokens.ts";

type Operation = {
  security?: unknown[];
  parameters?: { name: string; in: string; schema: Record<string, unknown>; explode?: boolean }[];
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
  "x-feed-close-codes"?: { code: number }[];
};
type Document = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

const mongo = useMongo();
const open = useFeed({ mongo, database: "openapi" });
const secured = useFeed({ mongo, database: "openapi_auth", env: { AUTH_JWT_SECRET: randomSecret() } });

const documentOf = async (feed: FeedFixture) => {
  const response = await fetch(`${feed.http}/openapi.json`);
  expect(response.headers.get("content-type")).toStartWith("application/json");
  return (await response.json()) as Document;
};

describe("GET /openapi.json", () => {
  test("is a valid OpenAPI 3.1 document", async () => {
    const document = await documentOf(open);
    expect(document.openapi).toBe("3.1.0");
    const result = await new Validator().validate(document as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  test("every path the router serves is in it with exactly its methods (the router's Allow header agrees)", async () => {
    const document = await documentOf(open);
    expect(Object.keys(document.paths).sort()).toEqual([
      "/",
      "/feed",
      "/health/live",
      "/health/ready",
      "/metrics",
      "/openapi.json",
      "/posts",
      "/posts/{id}",
    ]);
    for (const [path, operations] of Object.entries(document.paths)) {
      const concrete = path.replace("{id}", "0123456789abcdef01234567");
      const response = await fetch(`${open.http}${concrete}`, { method: "PUT" });
      expect({ path, status: response.status }).toEqual({ path, status: 405 });
      const documented = Object.keys(operations).map((method) => method.toUpperCase());
      const allowed = response.headers
        .get("allow")!
        .split(", ")
        .filter((method) => method !== "HEAD" && method !== "OPTIONS");
      expect({ path, methods: allowed.sort() }).toEqual({ path, methods: documented.sort() });
    }
  });

  test("parameters, bodies and problem answers come from the validation schemas", async () => {
    const { paths } = await documentOf(open);
    const list = paths["/posts"]!.get!;
    const names = list.parameters!.map((parameter) => parameter.name);
    expect(names).toEqual(["limit", "before", "author", "authorId", "id", "types"]);
    expect(list.parameters!.find((parameter) => parameter.name === "author")).toMatchObject({
      in: "query",
      explode: true,
      schema: { type: "array", maxItems: 100 },
    });
    expect(paths["/posts/{id}"]!.get!.parameters).toEqual([expect.objectContaining({ name: "id", in: "path", required: true })]);
    expect(paths["/posts"]!.post!.requestBody).toMatchObject({
      content: { "application/json": { schema: { type: "object", required: ["author", "content"], additionalProperties: false } } },
    });
    expect(paths["/posts"]!.post!.responses["415"]!.content).toEqual({
      "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } },
    });
    const feed = paths["/"]!.get!;
    expect(feed["x-feed-close-codes"]!.map((entry) => entry.code)).toContain(4400);
    // GET /feed: both transports, the event stream's content type and where EventSource resumes.
    const both = paths["/feed"]!.get!;
    expect(Object.keys(both.responses)).toEqual(expect.arrayContaining(["101", "200", "400", "401", "429", "503"]));
    expect(both.responses["200"]!.content).toEqual({ "text/event-stream": { schema: { type: "string" } } });
    expect(both.parameters).toContainEqual(expect.objectContaining({ name: "Last-Event-ID", in: "header" }));
    expect(both["x-feed-close-codes"]!.map((entry) => entry.code)).toContain(1001);
  });

  test("real answers match the documented schemas", async () => {
    const document = await documentOf(open);
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    const check = (path: string, method: string, status: string, body: unknown) => {
      const schema = document.paths[path]![method]!.responses[status]!.content!["application/json"]!.schema;
      const valid = ajv.validate(schema, body);
      expect({ path, status, errors: ajv.errors ?? null }).toEqual({ path, status, errors: null });
      return valid;
    };
    const created = await (await postJson(open.http, { author: "ada", content: "described" })).json();
    check("/posts", "post", "201", created);
    check("/posts", "get", "200", await (await fetch(`${open.http}/posts?limit=5`)).json());
    check("/posts/{id}", "get", "200", await (await fetch(`${open.http}/posts/${(created as { id: string }).id}`)).json());
    check("/health/ready", "get", "200", await (await fetch(`${open.http}/health/ready`)).json());
  });

  test("security follows the server's configuration: with auth on, writes (and non-public reads) need a bearer token", async () => {
    const { paths } = await documentOf(secured);
    expect(paths["/posts"]!.post!.security).toEqual([{ bearer: [] }]);
    expect(paths["/posts"]!.get!.security).toEqual([{ bearer: [] }]);
    expect(paths["/health/live"]!.get!.security).toBeUndefined();
    expect((await documentOf(open)).paths["/posts"]!.post!.security).toBeUndefined();
  });
});
