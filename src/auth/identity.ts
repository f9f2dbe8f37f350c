import type { JWTPayload } from "jose";

/** The claims a display name is taken from, in order of preference. */
export const NAME_CLAIMS = ["name", "preferred_username", "sub"] as const;

/** Who a verified token says the caller is. */
export type Identity = {
  /** The token's subject: stable and unique at the issuer (display names are neither). */
  sub: string;
  /** The first of `name`, `preferred_username`, `sub` that is a non-empty string, as the token has it. */
  displayName: { claim: (typeof NAME_CLAIMS)[number]; value: string };
  /** When the token stops being valid, in milliseconds since the epoch. */
  expiresAt: number;
};

/** The identity of a verified claims set; `sub` and `exp` are already known to be present. */
export function identityOf(claims: JWTPayload & { sub: string; exp: number }): Identity {
  const claim = NAME_CLAIMS.find((name) => typeof claims[name] === "string" && (claims[name] as string).trim() !== "") ?? "sub";
  return { sub: claims.sub, displayName: { claim, value: claims[claim] as string }, expiresAt: claims.exp * 1000 };
}
