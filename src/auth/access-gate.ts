import type { AuthSettings } from "./auth-settings.ts";
import type { FoundToken } from "./bearer-token.ts";
import type { Identity } from "./identity.ts";
import type { TokenVerifier, Verification } from "./token-verifier.ts";

/**
 * Who may call a route, declared in the route table: `public` anyone (health); `read` a
 * token holder, or anyone with AUTH_PUBLIC_READ; `write` always a token holder when auth is on.
 */
export type Access = "public" | "read" | "write";

/** The gate's answer: the caller's identity (undefined: anonymous, or auth off), or why it is refused. */
export type AccessDecision =
  | { ok: true; identity: Identity | undefined }
  | { ok: false; failure: "missing" | "invalid" | "unavailable"; description: string };

/** The one place that decides access from a route's declared `Access` and the token a request carries. */
export class AccessGate {
  constructor(
    private readonly settings: AuthSettings,
    private readonly verify: TokenVerifier | undefined,
  ) {}

  get authOn(): boolean {
    return this.settings.mode !== "off";
  }

  needsToken(access: Access): boolean {
    if (!this.authOn || access === "public") return false;
    return access === "write" || !this.settings.publicRead;
  }

  /**
   * With auth off every token is ignored. With it on, a token that is sent is checked even
   * where none is needed: a client that believes it is authenticated is told it is not.
   */
  async check(access: Access, found: FoundToken): Promise<AccessDecision> {
    if (!this.verify || access === "public") return { ok: true, identity: undefined };
    switch (found.kind) {
      case "none":
        return this.needsToken(access)
          ? { ok: false, failure: "missing", description: "a bearer token is required" }
          : { ok: true, identity: undefined };
      case "malformed":
        return { ok: false, failure: "invalid", description: found.description };
      case "token":
        return decisionOf(await this.verify(found.token));
    }
  }

  /** Checks a token sent later on a live connection (a WebSocket refresh); undefined when auth is off. */
  async verifyToken(token: string): Promise<Verification | undefined> {
    return this.verify?.(token);
  }
}

function decisionOf(verification: Verification): AccessDecision {
  return verification.ok ? { ok: true, identity: verification.identity } : verification;
}
