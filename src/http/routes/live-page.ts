import { pageBundle } from "../page-bundle.macro.ts" with { type: "macro" };

// Bundled when the server is transpiled (see page-bundle.macro.ts): a constant string from here on.
const { html, contentSecurityPolicy } = pageBundle();

/** The live page (`src/page/`): public, it holds no data; it reads the feed like any client. */
export function livePageResponse(): Response {
  return new Response(html, {
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": contentSecurityPolicy,
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
      "Cache-Control": "no-cache",
    },
  });
}
