import { type ApiDescription, openApiDocument } from "../openapi.ts";
import { defineRoute, type Route } from "../route.ts";

/** GET /openapi.json: the API description of `routes` (this route included), built once. */
export function openApiRoute(routes: () => readonly Route[], api: ApiDescription): Route {
  let document: string | undefined;
  return defineRoute({
    method: "GET",
    path: "/openapi.json",
    summary: "This API's OpenAPI 3.1 description, generated from the route table",
    access: "public",
    responses: { 200: { description: "an OpenAPI 3.1 document" } },
    handle() {
      document ??= JSON.stringify(openApiDocument(routes(), api));
      return new Response(document, { headers: { "Content-Type": "application/json" } });
    },
  });
}
