import { isIP } from "node:net";

/**
 * Which Host names the server answers to (ALLOWED_HOSTS), against DNS rebinding: a page on
 * `attacker.test` whose name is made to resolve to this server is same-origin with it, so only
 * the Host header tells them apart. Loopback names and IP literals are always accepted (a
 * rebinding page cannot be served from this server's own address, and health checks use them).
 * Other names: those listed, any with `*`, and, when unset, any only when auth is on (a page
 * cannot borrow a user's token, so rebinding buys it nothing).
 */
export type AllowedHosts = { kind: "default" } | { kind: "any" } | { kind: "listed"; hosts: readonly string[] };

/** Parses ALLOWED_HOSTS: empty (the default), `*`, or host names (no scheme, no port), comma-separated. */
export function parseHostList(text: string): AllowedHosts | { error: string } {
  const value = text.trim();
  if (value === "") return { kind: "default" };
  if (value === "*") return { kind: "any" };
  const entries = value.split(",").map((entry) => entry.trim().toLowerCase().replace(/\.$/, ""));
  const bad = entries.filter((entry) => !/^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$/.test(entry));
  if (bad.length > 0)
    return { error: `must be *, or host names (no scheme, no port) comma-separated; not ${bad.map((e) => JSON.stringify(e)).join(", ")}` };
  return { kind: "listed", hosts: entries };
}

export class HostPolicy {
  readonly #listed: ReadonlySet<string>;

  constructor(
    private readonly allowed: AllowedHosts,
    private readonly authOn: boolean,
  ) {
    this.#listed = new Set(allowed.kind === "listed" ? allowed.hosts : []);
  }

  /** Whether a request for `hostname` (the Host header without its port, as URL.hostname gives it) is answered. */
  allows(hostname: string): boolean {
    const name = hostname.toLowerCase().replace(/\.$/, "");
    if (this.allowed.kind === "any" || isLoopbackName(name) || isIP(name.replace(/^\[(.*)\]$/, "$1")) !== 0) return true;
    if (this.#listed.has(name)) return true;
    return this.allowed.kind === "default" && this.authOn;
  }

  /** What the startup log says is accepted. */
  describe(): string {
    const always = "loopback names (localhost) and IP literals";
    if (this.allowed.kind === "any") return "any host (ALLOWED_HOSTS=*)";
    if (this.allowed.kind === "listed") return `${[...this.#listed].join(", ")}, and ${always}`;
    return this.authOn
      ? `any host (auth is on; set ALLOWED_HOSTS to narrow it)`
      : `${always} only (auth is off; set ALLOWED_HOSTS to add names)`;
  }
}

const isLoopbackName = (name: string) => name === "localhost" || name.endsWith(".localhost");
