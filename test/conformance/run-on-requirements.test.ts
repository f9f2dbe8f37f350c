// Defends: the conformance runner applies runOnRequirements exactly, so no test is run or skipped wrongly.
import { describe, expect, test } from "bun:test";
import { compareVersions, parseVersion, requirementsUnmet, topologyOf, type ServerInfo } from "./run-on-requirements";

const replicaSet70: ServerInfo = {
  version: [7, 0, 14],
  topology: "replicaset",
  members: 1,
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

  test("reads the topology from hello as a driver does", () => {
    expect(topologyOf({ isWritablePrimary: true, setName: "rs0", hosts: ["a:1", "b:2", "c:3"] })).toBe("replicaset");
    expect(topologyOf({ isWritablePrimary: true, msg: "isdbgrid" })).toBe("sharded");
    expect(topologyOf({ isWritablePrimary: true, serviceId: "x" })).toBe("load-balanced");
    expect(topologyOf({ isWritablePrimary: true })).toBe("single");
  });

  test("topologies decide by the deployment, whatever its size", async () => {
    const threeMembers = { ...replicaSet70, members: 3 };
    expect(await requirementsUnmet([{ topologies: ["replicaset"] }], threeMembers)).toBeNull();
    expect(await requirementsUnmet([{ topologies: ["single"] }], threeMembers)).toContain("needs topology single");
    expect(await requirementsUnmet([{ topologies: ["sharded", "sharded-replicaset"] }], threeMembers)).toContain("have replicaset");
  });
});
