import type { MongoClient } from "mongodb";
import { compareNumbers, numericValue, type Document } from "./bson-values";
import { match } from "./match";
import type { RunOnRequirement } from "./load-spec-files";

export type Topology = "single" | "replicaset" | "sharded" | "load-balanced";

/** What runOnRequirements are evaluated against, read once from the server under test. */
export interface ServerInfo {
  version: [number, number, number];
  topology: Topology;
  /** Replica set members the server's hello lists (hosts); 1 for a standalone or mongos. */
  members: number;
  auth: boolean;
  /** We never run against Atlas Serverless. */
  serverless: false;
  /** No libmongocrypt / mongocryptd here, so CSFLE is unsupported. */
  csfle: false;
  getParameter(name: string): Promise<unknown>;
}

/** Reads version (buildInfo.versionArray) and topology (hello) with the internal client. */
export async function readServerInfo(client: MongoClient, uri: string): Promise<ServerInfo> {
  const admin = client.db("admin");
  const buildInfo = await admin.command({ buildInfo: 1 });
  const versionArray = (buildInfo.versionArray as unknown[] | undefined) ?? String(buildInfo.version).split(/[.-]/);
  const [major = 0, minor = 0, patch = 0] = versionArray.slice(0, 3).map((part) => Number(numericValue(part) ?? part));
  const hello = await admin.command({ hello: 1 });
  const cache = new Map<string, Promise<unknown>>();
  return {
    version: [major, minor, patch],
    topology: topologyOf(hello),
    members: Array.isArray(hello.hosts) ? hello.hosts.length : 1,
    auth: hasCredentials(uri),
    serverless: false,
    csfle: false,
    getParameter(name) {
      let value = cache.get(name);
      if (!value) {
        value = admin.command({ getParameter: 1, [name]: 1 }).then((reply) => reply[name]);
        cache.set(name, value);
      }
      return value;
    },
  };
}

/** As a driver decides it from hello: setName → replica set, msg isdbgrid → sharded, serviceId → load balanced. */
export function topologyOf(hello: Document): Topology {
  if (hello.serviceId !== undefined) return "load-balanced";
  if (hello.msg === "isdbgrid") return "sharded";
  if (hello.setName !== undefined) return "replicaset";
  return "single";
}

function hasCredentials(uri: string): boolean {
  return /^mongodb(\+srv)?:\/\/[^/@]+@/.test(uri);
}

/** "4.2" → [4, 2, 0]; extra components are discarded. */
export function parseVersion(version: string): [number, number, number] {
  const [major = 0, minor = 0, patch = 0] = version.split(".").map((part) => Number.parseInt(part, 10));
  return [major, minor, patch];
}

export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/** Why one requirement is unmet, or null when the server satisfies it. */
export async function unmetReason(requirement: RunOnRequirement, server: ServerInfo): Promise<string | null> {
  const version = server.version.join(".");
  const { minServerVersion, maxServerVersion, topologies, serverless, serverParameters } = requirement;
  if (minServerVersion && compareVersions(server.version, parseVersion(minServerVersion)) < 0) {
    return `needs server >= ${minServerVersion} (have ${version})`;
  }
  if (maxServerVersion && compareVersions(server.version, parseVersion(maxServerVersion)) > 0) {
    return `needs server <= ${maxServerVersion} (have ${version})`;
  }
  if (topologies && !topologies.some((topology) => topologyMatches(topology, server.topology))) {
    return `needs topology ${topologies.join("|")} (have ${server.topology})`;
  }
  if (serverless === "require" && !server.serverless) return "needs Atlas Serverless";
  if (serverless === "forbid" && server.serverless) return "forbids Atlas Serverless";
  if (requirement.auth !== undefined && requirement.auth !== server.auth) {
    return requirement.auth ? "needs authentication enabled" : "needs authentication disabled";
  }
  if (requirement.csfle !== undefined && requirement.csfle !== server.csfle) {
    return requirement.csfle ? "needs CSFLE support (libmongocrypt)" : "needs CSFLE unsupported";
  }
  if (requirement.authMechanism !== undefined) {
    const mechanisms = await server.getParameter("authenticationMechanisms").catch(() => []);
    const wanted = requirement.authMechanism.toLowerCase();
    if (!Array.isArray(mechanisms) || !mechanisms.some((m) => String(m).toLowerCase() === wanted)) {
      return `needs auth mechanism ${requirement.authMechanism}`;
    }
  }
  for (const [name, expected] of Object.entries(serverParameters ?? {})) {
    const actual = await server.getParameter(name).catch(() => undefined);
    if (actual === undefined || !parameterMatches(expected, actual)) {
      return `needs server parameter ${name}=${JSON.stringify(expected)}`;
    }
  }
  return null;
}

function parameterMatches(expected: unknown, actual: unknown): boolean {
  const expectedNumber = numericValue(expected);
  const actualNumber = numericValue(actual);
  if (expectedNumber !== undefined && actualNumber !== undefined) return compareNumbers(expectedNumber, actualNumber) === 0;
  return match(expected, actual, { root: true }) === null;
}

function topologyMatches(wanted: string, actual: Topology): boolean {
  // "sharded" accepts any sharded cluster; since 3.6 every shard is a replica set.
  if (wanted === "sharded-replicaset") return actual === "sharded";
  return wanted === actual;
}

/** Null when any requirement is met (or none are given); otherwise the reasons all failed. */
export async function requirementsUnmet(requirements: RunOnRequirement[] | undefined, server: ServerInfo): Promise<string | null> {
  if (!requirements || requirements.length === 0) return null;
  const reasons: string[] = [];
  for (const requirement of requirements) {
    const reason = await unmetReason(requirement, server);
    if (reason === null) return null;
    reasons.push(reason);
  }
  return reasons.join("; or ");
}
