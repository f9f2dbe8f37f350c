/**
 * Where a request carries its token. HTTP: `Authorization: Bearer <jwt>` only. A WebSocket
 * handshake also accepts the subprotocol `bearer.<jwt>` (what browsers can send) and the
 * query parameter `access_token`. One way at a time (RFC 6750 §2).
 */
export type FoundToken = { kind: "token"; token: string } | { kind: "none" } | { kind: "malformed"; description: string };

/** The subprotocol of the feed; the only one the server ever answers with. */
export const FEED_SUBPROTOCOL = "mongo-feed.v1";
const BEARER_SUBPROTOCOL_PREFIX = "bearer.";
/** RFC 6750 b64token: what a JWT (base64url parts joined by dots) is made of. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** `Authorization: Bearer <token>`. */
export function tokenFromAuthorization(request: Request): FoundToken {
  const header = request.headers.get("authorization");
  if (header === null) return { kind: "none" };
  const token = /^Bearer +(\S+) *$/i.exec(header)?.[1];
  if (token === undefined || !B64TOKEN.test(token))
    return { kind: "malformed", description: "send the token as Authorization: Bearer <token>" };
  return { kind: "token", token };
}

/** The subprotocols a handshake asks for, in order. */
export function requestedSubprotocols(request: Request): string[] {
  const header = request.headers.get("sec-websocket-protocol");
  return header
    ? header
        .split(",")
        .map((item) => item.trim())
        .filter(Boolean)
    : [];
}

/** The token of a WebSocket handshake, from whichever one place carries it. */
export function tokenFromHandshake(request: Request, url: URL): FoundToken {
  const found: FoundToken[] = [tokenFromAuthorization(request)];
  for (const protocol of requestedSubprotocols(request)) {
    if (!protocol.toLowerCase().startsWith(BEARER_SUBPROTOCOL_PREFIX)) continue;
    const token = protocol.slice(BEARER_SUBPROTOCOL_PREFIX.length);
    found.push(
      B64TOKEN.test(token) ? { kind: "token", token } : { kind: "malformed", description: "the bearer subprotocol holds no token" },
    );
  }
  for (const token of url.searchParams.getAll("access_token")) {
    found.push(B64TOKEN.test(token) ? { kind: "token", token } : { kind: "malformed", description: "access_token holds no token" });
  }
  const present = found.filter((item) => item.kind !== "none");
  if (present.length > 1) return { kind: "malformed", description: "send the token one way only" };
  return present[0] ?? { kind: "none" };
}
