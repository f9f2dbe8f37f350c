import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";

/** Test key material is made in memory for each run: nothing secret is ever committed. */
export function randomSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64url");
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Claims for a test token: a subject, and an expiry ten minutes out, unless said otherwise (`undefined` drops a claim). */
export function claims(overrides: JWTPayload = {}): JWTPayload {
  const all: JWTPayload = { sub: "user-ada", name: "Ada", iat: nowSeconds(), exp: nowSeconds() + 600, ...overrides };
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
}

export async function signHs256(secret: string | Uint8Array, payload: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  const key = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
  return new SignJWT(payload).setProtectedHeader({ alg: "HS256", ...header }).sign(key);
}

/** An unsecured token (`alg: none`), as an attacker would hand-craft it. */
export function unsecured(payload: JWTPayload): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part(payload)}.`;
}

export type SigningKey = { kid: string; alg: string; privateKey: CryptoKey; publicJwk: JWK; publicPem: string };

export async function signingKey(alg: "RS256" | "ES256" | "EdDSA", kid = crypto.randomUUID()): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { kid, alg, privateKey, publicJwk, publicPem: await exportSPKI(publicKey) };
}

export async function signWith(key: SigningKey, payload: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey);
}

/**
 * An identity provider's JWKS endpoint on a free loopback port: publish and withdraw keys
 * (a rotation), count fetches, or make it fail.
 */
export class JwksServer implements AsyncDisposable {
  readonly keys: SigningKey[] = [];
  fetches = 0;
  failing = false;
  readonly #server;

  constructor() {
    this.#server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () => {
        this.fetches++;
        if (this.failing) return new Response("unavailable", { status: 503 });
        return Response.json({ keys: this.keys.map((key) => key.publicJwk) });
      },
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.#server.port}/.well-known/jwks.json`;
  }

  async publish(alg: "RS256" | "ES256" | "EdDSA" = "RS256"): Promise<SigningKey> {
    const key = await signingKey(alg);
    this.keys.push(key);
    return key;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#server.stop(true);
  }
}
