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

/** The AUTH_* settings as parsed, one by one. */
export type AuthSettingValues = {
  secret: string | undefined;
  jwksUrl: URL | undefined;
  issuer: string | undefined;
  audience: string[] | undefined;
  publicRead: boolean;
  cooldownSeconds: number;
};

/** The rules between the AUTH_* settings; each broken one is added to `problems`. */
export function resolveAuthSettings(values: AuthSettingValues, problems: string[]): AuthSettings {
  const { secret, jwksUrl, issuer, audience, publicRead } = values;
  if (secret && jwksUrl) {
    problems.push("AUTH_JWT_SECRET and AUTH_JWKS_URL are both set: choose one key source");
    return { mode: "off", publicRead: true };
  }
  if (jwksUrl) {
    if (!issuer) problems.push("AUTH_JWKS_URL needs AUTH_ISSUER: the iss your identity provider writes into its tokens");
    if (!audience) problems.push("AUTH_JWKS_URL needs AUTH_AUDIENCE: the aud your identity provider writes for this API");
    const cooldownMs = values.cooldownSeconds * 1000;
    return { mode: "jwks", jwksUrl, cooldownMs, issuer: issuer ?? "", audience: audience ?? [], publicRead };
  }
  if (secret) return { mode: "secret", secret, publicRead, ...(issuer ? { issuer } : {}), ...(audience ? { audience } : {}) };
  // Checks that would silently not happen: the operator believes tokens are checked.
  for (const [name, set] of [
    ["AUTH_ISSUER", issuer],
    ["AUTH_AUDIENCE", audience],
    ["AUTH_PUBLIC_READ", publicRead],
  ] as const) {
    if (set) problems.push(`${name} is set, but neither AUTH_JWT_SECRET nor AUTH_JWKS_URL is: auth would be off`);
  }
  return { mode: "off", publicRead: true };
}
