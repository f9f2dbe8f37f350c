import { BlockList, isIP } from "node:net";
import type { Server } from "bun";

/**
 * Which peers may tell us the client's address in `X-Forwarded-For`: nobody (`none`), the one
 * proxy in front of us whatever its address (`one`), or the proxies at the listed addresses
 * and CIDR ranges (`listed`).
 */
export type ProxyTrust = { hops: "none" } | { hops: "one" } | { hops: "listed"; proxies: readonly string[] };

/** Parses TRUST_PROXY: `false`, `true`, or a comma-separated list of addresses and CIDRs. */
export function parseProxyTrust(text: string): ProxyTrust | { error: string } {
  const value = text.trim().toLowerCase();
  if (value === "false" || value === "") return { hops: "none" };
  if (value === "true") return { hops: "one" };
  const proxies = value.split(",").map((entry) => entry.trim());
  const bad = proxies.filter((entry) => !blockEntry(entry));
  if (bad.length > 0)
    return {
      error: `must be true, false, or a comma-separated list of IP addresses and CIDR ranges; not ${bad.map((e) => JSON.stringify(e)).join(", ")}`,
    };
  return { hops: "listed", proxies };
}

function blockEntry(entry: string): { address: string; prefix?: number; family: "ipv4" | "ipv6" } | undefined {
  const [address = "", prefixText, extra] = entry.split("/");
  const version = isIP(address);
  if (!version || extra !== undefined) return undefined;
  const family = version === 4 ? "ipv4" : "ipv6";
  if (prefixText === undefined) return { address, family };
  const prefix = /^\d+$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  return prefix <= (version === 4 ? 32 : 128) ? { address, prefix, family } : undefined;
}

export type ClientAddressOf = (request: Request, server: Server<unknown>) => string;

/**
 * Where a request comes from, for per-address limits. Without trusted proxies it is the
 * socket's peer; `onIgnoredForwardedFor` is called (once) when a request carries
 * X-Forwarded-For anyway, because every limit then applies to the proxy as a whole.
 * With trust, X-Forwarded-For is read right to left and the first hop that is not a
 * trusted proxy is the client: entries further left were written by the client itself.
 */
export function clientAddressResolver(trust: ProxyTrust, onIgnoredForwardedFor: () => void): ClientAddressOf {
  const trusted = new BlockList();
  if (trust.hops === "listed") {
    for (const entry of trust.proxies) {
      const block = blockEntry(entry);
      if (!block) throw new Error(`TRUST_PROXY: ${JSON.stringify(entry)} is neither an IP address nor a CIDR range`); // parseProxyTrust refuses it first
      if (block.prefix === undefined) trusted.addAddress(block.address, block.family);
      else trusted.addSubnet(block.address, block.prefix, block.family);
    }
  }
  const isTrusted = (address: string) => {
    if (trust.hops === "none") return false;
    const version = isIP(address);
    return version !== 0 && (trust.hops === "one" || trusted.check(address, version === 4 ? "ipv4" : "ipv6"));
  };
  let warned = false;

  return (request, server) => {
    const peer = server.requestIP(request)?.address ?? "unknown";
    const forwarded = request.headers.get("x-forwarded-for");
    if (!forwarded) return peer;
    if (trust.hops === "none") {
      if (!warned) {
        warned = true;
        onIgnoredForwardedFor();
      }
      return peer;
    }
    if (!isTrusted(peer)) return peer;
    const hops = forwarded.split(",").map((hop) => hop.trim());
    const last = hops.at(-1);
    if (trust.hops === "one") return last !== undefined && isIP(last) ? last : peer;
    for (const hop of hops.toReversed()) {
      if (!isIP(hop)) return peer; // a malformed chain says nothing we can trust
      if (!isTrusted(hop)) return hop;
    }
    return hops[0] ?? peer;
  };
}
