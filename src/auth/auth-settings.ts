/**
 * How tokens are checked, as configured: off (anyone may post as anyone), a shared HS256
 * secret, or the keys of a JWKS endpoint. `issuer` and `audience` are checked when set.
 */
export type AuthSettings =
  | { mode: "off"; publicRead: true }
  | { mode: "secret"; secret: string; issuer?: string; audience?: readonly string[]; publicRead: boolean }
  | { mode: "jwks"; jwksUrl: URL; cooldownMs: number; issuer: string; audience: readonly string[]; publicRead: boolean };

/** At least this many bytes of HS256 secret (RFC 7518 §3.2: a key as long as the hash output). */
export const MIN_SECRET_BYTES = 32;

/** A JWKS URL must be https, except on this machine (a local identity provider, or a test). */
export function jwksUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "must be a URL";
  }
  if (url.protocol === "https:") return undefined;
  const local = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname) || url.hostname.startsWith("127.");
  if (url.protocol === "http:" && local) return undefined;
  return "must be an https:// URL (http:// only for localhost)";
}
