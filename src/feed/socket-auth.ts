import * as v from "valibot";
import type { AccessGate } from "../auth/access-gate.ts";
import type { Observations } from "../observability/observations.ts";
import { CloseCodes } from "../protocol/close-codes.ts";
import { ClientAuthFrameSchema } from "../protocol/frames.ts";
import { authFrame } from "./frame-encoding.ts";
import { takeRefresh, tokenHash } from "./refresh-allowance.ts";
import type { FeedSocket } from "./socket-data.ts";

/** setTimeout's longest delay (about 24.8 days); a later expiry is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const OPEN = 1;

/**
 * Live tokens on live sockets: one timer per authenticated socket fires at its token's `exp`
 * and closes it with 4001, unless the client sent `{"type":"auth","token":"<jwt>"}` first.
 * A fresh token for the same `sub` with a later `exp` moves the timer; one for another `sub`
 * closes with 4403; an invalid one with 4401. Each is answered `{"type":"auth","expiresAt"}`
 * with the expiry now in force (unchanged when the server could not check the token, or its
 * `exp` is not later). Frames that are not JSON, not an auth frame, or arrive with auth off
 * are ignored, as every client frame always was. Auth frames are rate limited per socket
 * (past the limit: 4429), and the token the socket was last answered for is answered again
 * without checking it again.
 */
export class SocketAuth {
  constructor(
    private readonly gate: AccessGate,
    private readonly observations: Observations,
    private readonly now: () => number = Date.now,
  ) {}

  /** Arms the expiry timer of an authenticated socket (one whose token already expired closes now). */
  opened(ws: FeedSocket): void {
    if (ws.data.identity) this.#arm(ws);
  }

  closed(ws: FeedSocket): void {
    clearTimeout(ws.data.expiryTimer);
  }

  message(ws: FeedSocket, message: string | Buffer): void {
    if (!this.gate.authOn || typeof message !== "string") return;
    let json: unknown;
    try {
      json = JSON.parse(message);
    } catch {
      return;
    }
    const frame = v.safeParse(ClientAuthFrameSchema, json);
    if (!frame.success) return;
    const { allowed, state } = takeRefresh(ws.data.refreshes, this.now());
    ws.data.refreshes = state;
    if (!allowed) {
      this.#close(ws, CloseCodes.tooManyRefreshes.code, CloseCodes.tooManyRefreshes.reason);
      return;
    }
    const hash = tokenHash(frame.output.token);
    const expiresAt = ws.data.identity?.expiresAt;
    if (hash === state.lastTokenHash && expiresAt !== undefined) {
      ws.send(authFrame(expiresAt)); // nothing changed since the same token was checked
      this.observations.emit({ type: "token-refreshed", expiresAt: new Date(expiresAt).toISOString(), unchanged: true });
      return;
    }
    this.#refresh(ws, frame.output.token, hash).catch((error) => this.observations.emit({ type: "unhandled-rejection", error }));
  }

  async #refresh(ws: FeedSocket, token: string, hash: bigint | number): Promise<void> {
    const verification = await this.gate.verifyToken(token);
    if (!verification || ws.readyState !== OPEN) return;
    const current = ws.data.identity;
    if (!verification.ok) {
      if (verification.failure === "invalid") return this.#close(ws, CloseCodes.unauthorized.code, verification.description);
    } else if (current && verification.identity.sub !== current.sub) {
      return this.#close(ws, CloseCodes.forbidden.code, CloseCodes.forbidden.reason);
    } else {
      if (ws.data.refreshes) ws.data.refreshes.lastTokenHash = hash;
      if (!current || verification.identity.expiresAt > current.expiresAt) {
        ws.data.identity = verification.identity;
        this.#arm(ws);
      }
    }
    const expiresAt = ws.data.identity?.expiresAt;
    if (expiresAt === undefined) return; // anonymous, and the token could not be checked
    ws.send(authFrame(expiresAt));
    this.observations.emit({ type: "token-refreshed", expiresAt: new Date(expiresAt).toISOString(), unchanged: false });
  }

  #arm(ws: FeedSocket): void {
    clearTimeout(ws.data.expiryTimer);
    const expiresAt = ws.data.identity?.expiresAt;
    if (expiresAt === undefined) return; // anonymous: nothing expires
    const delay = expiresAt - this.now();
    if (delay <= 0) {
      this.#close(ws, CloseCodes.tokenExpired.code, CloseCodes.tokenExpired.reason);
      return;
    }
    ws.data.expiryTimer = setTimeout(
      () => {
        if (ws.readyState === OPEN) this.#arm(ws);
      },
      Math.min(delay, MAX_TIMER_MS),
    );
  }

  #close(ws: FeedSocket, code: number, reason: string): void {
    this.observations.emit({ type: "socket-closed-by-server", code });
    ws.close(code, reason);
  }
}
