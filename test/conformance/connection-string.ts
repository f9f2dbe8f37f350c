import { isDocument, specialOperatorName, type Document } from "./bson-values";
import { NotSupportedByRunner } from "./failures";

/** The parts of a `mongodb://` URI the runner rewrites: hosts and the query string. */
interface UriParts {
  prefix: string;
  hosts: string[];
  path: string;
  params: URLSearchParams;
}

function parse(uri: string): UriParts {
  const parsed = /^(mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?)([^/?]*)(\/[^?]*)?(?:\?(.*))?$/.exec(uri);
  if (!parsed) throw new Error(`not a MongoDB connection string: ${uri}`);
  const [, prefix = "", hosts = "", path = "/", query = ""] = parsed;
  return { prefix, hosts: hosts.split(","), path, params: new URLSearchParams(query) };
}

function format({ prefix, hosts, path, params }: UriParts): string {
  const query = params.toString();
  return `${prefix}${hosts.join(",")}${path || "/"}${query ? `?${query}` : ""}`;
}

/** How many hosts (mongos or members) the URI lists. */
export function hostCount(uri: string): number {
  return parse(uri).hosts.length;
}

/** The URI with only its first host, for useMultipleMongoses: false on a sharded cluster. */
export function withSingleHost(uri: string): string {
  const parts = parse(uri);
  return format({ ...parts, hosts: parts.hosts.slice(0, 1) });
}

/**
 * Applies a client entity's uriOptions to the suite's connection string, overriding keys it
 * already has (URI options are case-insensitive). readPreferenceTags is an array of tag sets,
 * authMechanismProperties a document; `$$placeholder` values need an environment we do not have.
 */
export function withUriOptions(uri: string, options: Document): string {
  const parts = parse(uri);
  for (const [key, value] of Object.entries(options)) {
    if (specialOperatorName(value) === "$$placeholder") throw new NotSupportedByRunner(`uriOptions.${key}: $$placeholder`);
    for (const existing of [...parts.params.keys()]) {
      if (existing.toLowerCase() === key.toLowerCase()) parts.params.delete(existing);
    }
    for (const text of uriValues(key, value)) parts.params.append(key, text);
  }
  // directConnection=true needs a single seed and no replicaSet.
  if (options.directConnection === true) {
    parts.hosts = parts.hosts.slice(0, 1);
    for (const key of [...parts.params.keys()]) if (key.toLowerCase() === "replicaset") parts.params.delete(key);
  }
  return format(parts);
}

function uriValues(key: string, value: unknown): string[] {
  if (Array.isArray(value)) return value.map((item) => String(item));
  if (isDocument(value)) {
    return [
      Object.entries(value)
        .map(([name, item]) => `${name}:${String(item)}`)
        .join(","),
    ];
  }
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return [String(value)];
  throw new NotSupportedByRunner(`uriOptions.${key} value ${String(value)}`);
}
