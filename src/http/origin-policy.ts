/**
 * Which browser pages may use this server (ALLOWED_ORIGINS). A page on the server's own
 * host is always allowed; others only when listed, or with `*`. The same rule answers CORS
 * (headers only for allowed origins) and guards WebSocket handshakes (cross-site WebSocket
 * hijacking: a browser sends cookies and opens sockets for any page, so the Origin decides).
 */
export type AllowedOrigins = { kind: "same-origin" } | { kind: "any" } | { kind: "listed"; origins: readonly string[] };

/** The request headers a browser may send cross-origin, and the response headers its scripts may read. */
const ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key";
const EXPOSED_HEADERS = "Location, Retry-After, WWW-Authenticate, Idempotent-Replayed, RateLimit, RateLimit-Policy";
/** How long a browser may cache a preflight: short, so a changed ALLOWED_ORIGINS applies within minutes. */
export const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** Parses ALLOWED_ORIGINS: empty (same origin only), `*`, or exact origins, comma-separated. */
export function parseOriginList(text: string): AllowedOrigins | { error: string } {
  const value = text.trim();
  if (value === "") return { kind: "same-origin" };
  if (value === "*") return { kind: "any" };
  const entries = value.split(",").map((entry) => entry.trim());
  const origins: string[] = [];
  const bad: string[] = [];
  for (const entry of entries) {
    const origin = originOf(entry);
    if (origin && origin === entry.toLowerCase().replace(/\/$/, "")) origins.push(origin);
    else bad.push(entry);
  }
  if (bad.length > 0) {
    return {
      error: `must be *, or exact origins (scheme://host[:port], no path) comma-separated; not ${bad.map((e) => JSON.stringify(e)).join(", ")}`,
    };
  }
  return { kind: "listed", origins };
}

function originOf(text: string): string | undefined {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:" ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

export class OriginPolicy {
  readonly #listed: ReadonlySet<string>;

  constructor(private readonly allowed: AllowedOrigins) {
    this.#listed = new Set(allowed.kind === "listed" ? allowed.origins : []);
  }

  /** Whether a page at `origin` may use the server. "Same origin" means the origin's host:port is the request's own Host. */
  allows(origin: string, request: Request): boolean {
    if (this.allowed.kind === "any") return true;
    const normalized = originOf(origin);
    if (!normalized) return false; // "null" (sandboxed frames, file:) and anything unparsable
    if (this.#listed.has(normalized)) return true;
    const host = request.headers.get("host")?.toLowerCase();
    return host !== undefined && new URL(normalized).host === host;
  }

  /** CORS headers for a response to `request`: only for an allowed Origin. */
  corsHeaders(request: Request): Record<string, string> {
    const origin = request.headers.get("origin");
    const vary: Record<string, string> = this.allowed.kind === "same-origin" ? {} : { Vary: "Origin" };
    if (origin === null || !this.allows(origin, request)) return vary;
    return { ...vary, "Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": EXPOSED_HEADERS };
  }

  /** The answer to OPTIONS on a known path: its methods, and for an allowed preflight the CORS grants. */
  preflight(request: Request, methods: string): Response {
    const headers: Record<string, string> = { Allow: `${methods}, OPTIONS`, ...this.corsHeaders(request) };
    if (headers["Access-Control-Allow-Origin"] && request.headers.has("access-control-request-method")) {
      headers["Access-Control-Allow-Methods"] = methods;
      headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS;
      headers["Access-Control-Max-Age"] = String(PREFLIGHT_MAX_AGE_SECONDS);
      delete headers["Access-Control-Expose-Headers"];
    }
    return new Response(null, { status: 204, headers });
  }
}
