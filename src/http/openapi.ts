import { toJsonSchema } from "@valibot/to-json-schema";
import type * as v from "valibot";
import { CloseCodes } from "../protocol/close-codes.ts";
import { ClientAuthFrameSchema, FeedFrameSchema } from "../protocol/frames.ts";
import { StreamCloseFrameSchema } from "../protocol/stream-close.ts";
import type { AnySchema, Route } from "./route.ts";

type JsonSchema = Record<string, unknown>;
export type ApiDescription = { title: string; version: string; authOn: boolean; publicRead: boolean };

/**
 * The OpenAPI 3.1 document of a route table: every route's parameters, body and responses
 * come from the valibot schemas the router validates with, never from a hand-written copy.
 * The WebSocket's frames and close codes are described on `GET /` (extensions `x-feed-*`).
 */
export function openApiDocument(routes: readonly Route[], api: ApiDescription): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:(\w+)/g, "{$1}");
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operation(route, api);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: api.title,
      version: api.version,
      description: "A realtime MongoDB feed: posts over HTTP, every change over one WebSocket.",
    },
    paths,
    components: {
      schemas: {
        Problem: problemSchema,
        FeedFrame: schemaOf(FeedFrameSchema, "output"),
        ClientAuthFrame: schemaOf(ClientAuthFrameSchema, "output"),
        StreamCloseFrame: schemaOf(StreamCloseFrameSchema, "output"),
      },
      securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
    },
  };
}

/** Answers the request pipeline may give on any route, before the route itself is reached. */
const EVERY_ROUTE: Route["responses"] = {
  421: "the Host is not one this server answers to (ALLOWED_HOSTS), before any CORS grant or upgrade",
};

function operation(route: Route, api: ApiDescription): Record<string, unknown> {
  const secured = api.authOn && (route.access === "write" || (route.access === "read" && !api.publicRead));
  const parameters = [
    ...parametersOf(route.params, "path"),
    ...parametersOf(route.query, "query"),
    ...(route.eventStream ? [lastEventId] : []),
  ];
  return {
    operationId: `${route.method.toLowerCase()}${route.path.replace(/[/:](\w)/g, (_, first: string) => first.toUpperCase()).replace(/\W/g, "") || "Root"}`,
    summary: route.summary,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body ? { requestBody: { required: true, content: { "application/json": { schema: schemaOf(route.body, "input") } } } } : {}),
    responses: Object.fromEntries(
      Object.entries({ ...route.responses, ...EVERY_ROUTE }).map(([status, response]) => {
        if (typeof response === "string") {
          return [
            status,
            { description: response, content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } } },
          ];
        }
        return [
          status,
          {
            description: response.description,
            ...(response.headers
              ? {
                  headers: Object.fromEntries(
                    Object.entries(response.headers).map(([name, description]) => [name, { description, schema: { type: "string" } }]),
                  ),
                }
              : {}),
            ...(response.schema ? { content: { "application/json": { schema: schemaOf(response.schema, "output") } } } : {}),
            ...(response.contentType ? { content: { [response.contentType]: { schema: { type: "string" } } } } : {}),
          },
        ];
      }),
    ),
    ...(secured ? { security: [{ bearer: [] }] } : {}),
    ...(route.websocket
      ? {
          "x-feed-frames": { $ref: "#/components/schemas/FeedFrame" },
          "x-feed-client-frames": { $ref: "#/components/schemas/ClientAuthFrame" },
          "x-feed-subprotocol": "mongo-feed.v1",
          "x-feed-close-codes": Object.values(CloseCodes).map(({ code, meaning, reconnect }) => ({ code, meaning, reconnect })),
        }
      : {}),
    ...(route.eventStream ? { "x-feed-event-stream-close-frame": { $ref: "#/components/schemas/StreamCloseFrame" } } : {}),
  };
}

/** One OpenAPI parameter per property of an object schema; a repeatable one is an exploded array. */
function parametersOf(schema: AnySchema | undefined, location: "path" | "query"): Record<string, unknown>[] {
  if (!schema) return [];
  const object = schemaOf(schema, "input") as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, property]) => {
    // `a` or `a=x&a=y`: described as the array form, which covers the single value too.
    const list = (property.anyOf as JsonSchema[] | undefined)?.find((alternative) => alternative.type === "array");
    return {
      name,
      in: location,
      required: location === "path" || (object.required ?? []).includes(name),
      schema: list ?? property,
      ...(typeof property.description === "string" ? { description: property.description } : {}),
      ...(list ? { style: "form", explode: true } : {}),
    };
  });
}

/**
 * JSON Schema (2020-12, as OpenAPI 3.1 uses) of a valibot schema. `trim` and `to_lower_case`
 * change no JSON type, so the limits after them are what the document states.
 */
export function schemaOf(schema: v.GenericSchema<unknown, unknown>, typeMode: "input" | "output"): JsonSchema {
  const { $schema: _, ...json } = toJsonSchema(schema, {
    target: "draft-2020-12",
    typeMode,
    errorMode: "throw",
    ignoreActions: ["trim", "to_lower_case"],
    // A JSON Schema pattern is matched with Unicode semantics (2020-12 §6.4), so a `u` regex
    // (\p{…} classes) is stated as is; a field with several regexes states each in allOf.
    overrideAction: ({ valibotAction, jsonSchema }) => {
      const action = valibotAction as { type: string; requirement?: unknown };
      if (action.type !== "regex" || !(action.requirement instanceof RegExp) || action.requirement.flags !== "u") return undefined;
      const { allOf = [], ...rest } = jsonSchema as JsonSchema & { allOf?: JsonSchema[] };
      return { ...rest, allOf: [...allOf, { pattern: action.requirement.source }] } as JsonSchema;
    },
  });
  return json as JsonSchema;
}

/** Server-Sent Events: where EventSource resumes on its own (wins over `since`). */
const lastEventId = {
  name: "Last-Event-ID",
  in: "header",
  required: false,
  schema: { type: "string" },
  description: "SSE only: the id of the last event received (a position); the stream resumes right after it, as since does",
};

/** RFC 9457 problem details, as every error of this API is answered. */
const problemSchema = {
  type: "object",
  required: ["type", "title", "status", "detail"],
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: { type: "integer" },
    detail: { type: "string" },
    instance: { type: "string" },
    issues: {
      type: "array",
      items: { type: "object", required: ["path", "message"], properties: { path: { type: "string" }, message: { type: "string" } } },
    },
  },
};
