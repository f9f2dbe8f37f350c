import { errors, jwtVerify, type JWTVerifyGetKey, type JWTVerifyOptions } from "jose";
import type { Observations } from "../observability/observations.ts";
import type { AuthSettings } from "./auth-settings.ts";
import { identityOf, type Identity } from "./identity.ts";
import { JwksKeySource, KeysUnavailable } from "./jwks-key-source.ts";

/**
 * What checking a token found: who it is, or why not. `unavailable` means the server could
 * not check it (the JWKS endpoint is unreachable): not the token's fault, so never a 401.
 * Descriptions are fixed texts: they never quote the token or its claims.
 */
export type Verification = { ok: true; identity: Identity } | { ok: false; failure: "invalid" | "unavailable"; description: string };

export type TokenVerifier = (token: string) => Promise<Verification>;

/** Explicit per key source: a shared secret signs only HS256; a JWKS holds only asymmetric keys (no alg confusion, no `none`). */
export const SECRET_ALGORITHMS = ["HS256"];
export const JWKS_ALGORITHMS = ["RS256", "ES256", "EdDSA"];
/** Clocks drift; five seconds is the most `exp` and `nbf` are stretched. */
export const CLOCK_TOLERANCE_SECONDS = 5;
/**
 * The furthest ahead a token's `exp`, `nbf` or `iat` may lie. Identity providers issue tokens
 * for minutes or hours; a claim past this is absurd (an `exp` of 1e15 is not even a date), and
 * a socket holding it would never expire.
 */
export const MAX_CLAIM_AHEAD_SECONDS = 366 * 24 * 60 * 60;
/** How long one JWKS fetch may take before the request that needed it fails as unavailable. */
const JWKS_TIMEOUT_MS = 5_000;
/** Keys are refetched at least this often, so a removed (compromised) key stops working. */
const JWKS_MAX_AGE_MS = 10 * 60_000;

/** Builds the one verifier for the configured key source; undefined when auth is off. */
export function createTokenVerifier(settings: AuthSettings, observations: Observations, signal?: AbortSignal): TokenVerifier | undefined {
  if (settings.mode === "off") return undefined;
  const options: JWTVerifyOptions = {
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    requiredClaims: ["sub", "exp"],
    ...(settings.issuer ? { issuer: settings.issuer } : {}),
    ...(settings.audience ? { audience: [...settings.audience] } : {}),
  };
  if (settings.mode === "secret") {
    const key = new TextEncoder().encode(settings.secret);
    return (token) => verifyWith(token, key, { ...options, algorithms: SECRET_ALGORITHMS });
  }
  // An unknown kid (a key rotation) refetches, but at most once per cooldown, and failures back
  // off further: a flood of made-up kids cannot turn into a flood of requests to the provider.
  const keys = new JwksKeySource({
    url: settings.jwksUrl,
    cooldownMs: settings.cooldownMs,
    timeoutMs: JWKS_TIMEOUT_MS,
    maxAgeMs: JWKS_MAX_AGE_MS,
    observations,
    ...(signal ? { signal } : {}),
  }).getKey;
  return (token) => verifyWith(token, keys, { ...options, algorithms: JWKS_ALGORITHMS });
}

async function verifyWith(token: string, key: Uint8Array | JWTVerifyGetKey, options: JWTVerifyOptions): Promise<Verification> {
  try {
    const { payload } = await (typeof key === "function" ? jwtVerify(token, key, options) : jwtVerify(token, key, options));
    if (typeof payload.sub !== "string" || payload.sub === "") return invalid("the token's subject (sub) must be a non-empty string");
    const absurd = absurdTimeClaim(payload, Date.now() / 1000);
    if (absurd) return invalid(`the token's ${absurd} is out of range`);
    return { ok: true, identity: identityOf(payload as typeof payload & { sub: string; exp: number }) };
  } catch (error) {
    if (error instanceof KeysUnavailable) {
      return { ok: false, failure: "unavailable", description: "the server cannot fetch the keys that check tokens right now" };
    }
    return invalid(describe(error, options.algorithms ?? []));
  }
}

/** The first of `exp`, `nbf`, `iat` that is negative or more than a year ahead (jose already knows they are numbers). */
function absurdTimeClaim(payload: Record<string, unknown>, nowSeconds: number): string | undefined {
  const latest = nowSeconds + MAX_CLAIM_AHEAD_SECONDS;
  for (const claim of ["exp", "nbf", "iat"] as const) {
    const value = payload[claim];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > latest) return `${claim} claim`;
  }
  return undefined;
}

const invalid = (description: string): Verification => ({ ok: false, failure: "invalid", description });

/** A short, fixed reason for each way a token fails (short enough for a WebSocket close reason). */
function describe(error: unknown, algorithms: readonly string[]): string {
  if (error instanceof errors.JWTExpired) return "the token has expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    const missing = error.reason === "missing";
    switch (error.claim) {
      case "sub":
        return missing ? "the token has no subject (sub)" : "the token's subject (sub) is not valid";
      case "exp":
        return missing ? "the token has no expiry (exp)" : "the token's expiry (exp) is not valid";
      case "nbf":
        return "the token is not valid yet (nbf)";
      case "iss":
        return missing ? "the token has no issuer (iss)" : "the token's issuer (iss) is not accepted";
      case "aud":
        return missing ? "the token has no audience (aud)" : "the token's audience (aud) is not accepted";
      default:
        return "the token's claims are not valid";
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return `the token's algorithm is not accepted (only ${algorithms.join(", ")})`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify";
  if (error instanceof errors.JWKSNoMatchingKey) return "no key matches the token's key id (kid)";
  if (error instanceof errors.JWKSMultipleMatchingKeys) return "the token names no key id (kid) and several keys match";
  return "the token is malformed";
}
