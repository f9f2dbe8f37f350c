import { decodeJwt } from "jose";

/** A token's `exp` in milliseconds: read (not verified, the server does that) to schedule a refresh. */
export function expiryOf(token: string): number | undefined {
  try {
    const { exp } = decodeJwt(token);
    return exp === undefined ? undefined : exp * 1000;
  } catch {
    return undefined;
  }
}
