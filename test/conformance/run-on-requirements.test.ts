// Defends: the conformance runner applies runOnRequirements exactly, so no test is run or skipped wrongly.
import { describe, expect, test } from "bun:test";
import { compareVersions, parseVersion, requirementsUnmet, type ServerInfo } from "./run-on-requirements";

const replicaSet70: ServerInfo = {
  version: [7, 0, 14],
  topology: "replicaset",
  auth: false,
  serverless: false,
  csfle: false,
  getParameter: async (name) => {
    if (name === "enableTestCommands") return 1;
    throw new Error(`no such parameter ${name}`);
  },
};

describe("runOnRequirements", () => {
  test("compares versions component by component", () => {
    expect(compareVersions(parseVersion("4.0.10"), parseVersion("4.0.9"))).toBeGreaterThan(0);
    expect(compareVersions(parseVersion("3.6"), parseVersion("3.6.0"))).toBe(0);
    expect(compareVersions(parseVersion("4.2.99"), [7, 0, 14])).toBeLessThan(0);
  });

  test("is met when any one requirement is met", async () => {
    const requirements = [{ maxServerVersion: "4.2.99" }, { minServerVersion: "6.0", topologies: ["replicaset"] }];
    expect(await requirementsUnmet(requirements, replicaSet70)).toBeNull();
    expect(await requirementsUnmet(undefined, replicaSet70)).toBeNull();
  });

  test("explains every unmet requirement", async () => {
    const reason = await requirementsUnmet([{ minServerVersion: "8.1.0" }, { topologies: ["single"] }], replicaSet70);
    expect(reason).toBe("needs server >= 8.1.0 (have 7.0.14); or needs topology single (have replicaset)");
  });

  test("treats serverless, auth and csfle as known facts of this environment", async () => {
    expect(await requirementsUnmet([{ serverless: "forbid" }], replicaSet70)).toBeNull();
    expect(await requirementsUnmet([{ serverless: "require" }], replicaSet70)).toBe("needs Atlas Serverless");
    expect(await requirementsUnmet([{ auth: true }], replicaSet70)).toBe("needs authentication enabled");
    expect(await requirementsUnmet([{ csfle: true }], replicaSet70)).toBe("needs CSFLE support (libmongocrypt)");
  });

  test("compares server parameters numerically and fails on unknown ones", async () => {
    expect(await requirementsUnmet([{ serverParameters: { enableTestCommands: true } }], replicaSet70)).not.toBeNull();
    expect(await requirementsUnmet([{ serverParameters: { enableTestCommands: 1.0 } }], replicaSet70)).toBeNull();
    expect(await requirementsUnmet([{ serverParameters: { nope: 1 } }], replicaSet70)).toBe("needs server parameter nope=1");
  });
});
