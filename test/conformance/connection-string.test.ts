// Defends: a client entity's uriOptions reach the driver through the connection string, as the unified test format says.
import { describe, expect, test } from "bun:test";
import { hostCount, withSingleHost, withUriOptions } from "./connection-string";

const replicaSet = "mongodb://127.0.0.1:1/?replicaSet=rs0";

describe("withUriOptions", () => {
  test("adds options and overrides the URI's own, case-insensitively", () => {
    expect(withUriOptions(replicaSet, { retryWrites: false, appname: "x", w: "majority", ReplicaSet: "rs1" })).toBe(
      "mongodb://127.0.0.1:1/?retryWrites=false&appname=x&w=majority&ReplicaSet=rs1",
    );
  });

  test("repeats readPreferenceTags and joins authMechanismProperties", () => {
    const uri = withUriOptions("mongodb://u:p@h:1", { readPreferenceTags: ["dc:ny", ""], authMechanismProperties: { A: "b", C: 1 } });
    expect(uri).toBe("mongodb://u:p@h:1/?readPreferenceTags=dc%3Any&readPreferenceTags=&authMechanismProperties=A%3Ab%2CC%3A1");
  });

  test("directConnection keeps one seed and drops replicaSet", () => {
    expect(withUriOptions("mongodb://a:1,b:2,c:3/db?replicaSet=rs0&w=1", { directConnection: true })).toBe(
      "mongodb://a:1/db?w=1&directConnection=true",
    );
  });

  test("refuses $$placeholder values it cannot fill", () => {
    expect(() => withUriOptions(replicaSet, { authMechanismProperties: { $$placeholder: 1 } })).toThrow("is not supported by this runner");
  });
});

describe("hosts", () => {
  test("counts seeds and keeps the first one for a single-mongos client", () => {
    const sharded = "mongodb://user:pw@m1:1,m2:2/?tls=false";
    expect(hostCount(sharded)).toBe(2);
    expect(withSingleHost(sharded)).toBe("mongodb://user:pw@m1:1/?tls=false");
    expect(hostCount(replicaSet)).toBe(1);
  });
});
