// Defends: configuration is read once, flags win over the environment, and every problem is named at once.
import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../src/config.ts";

function problemsOf(env: Record<string, string>, argv: string[] = []): readonly string[] {
  try {
    loadConfig(env, argv);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  test("uses the documented defaults", () => {
    expect(loadConfig({}, [])).toEqual({
      kind: "run",
      config: {
        port: 8080,
        host: "0.0.0.0",
        mongodbUri: "mongodb://localhost:27017/social_network",
        connectTimeoutMs: 10_000,
        historySize: 10_000,
        historyTtlSeconds: 300,
        sendBufferLimit: 1_048_576,
        idleTimeoutSeconds: 60,
        trustProxy: { hops: "none" },
        logLevel: "info",
        databaseName: "social_network",
      },
    });
  });

  test("reads the environment, and flags win over it", () => {
    const request = loadConfig({ PORT: "9000", HOST: "127.0.0.1", MONGODB_URI: "mongodb://a,b/feeds?replicaSet=rs0" }, ["--port", "9100"]);
    expect(request).toMatchObject({ kind: "run", config: { port: 9100, host: "127.0.0.1", databaseName: "feeds" } });
    expect(Object.isFrozen(request.kind === "run" && request.config)).toBe(true);
  });

  test("takes the database from the URI path, social_network when it is empty", () => {
    const database = (uri: string) => (loadConfig({ MONGODB_URI: uri }, []) as { config: { databaseName: string } }).config.databaseName;
    expect(database("mongodb://localhost:27017/?replicaSet=rs0")).toBe("social_network");
    expect(database("mongodb://localhost")).toBe("social_network");
    expect(database("mongodb+srv://user:pw@cluster.example.net/prod_feed?retryWrites=true")).toBe("prod_feed");
  });

  test("names every problem at once", () => {
    expect(problemsOf({ PORT: "70000", HOST: " ", MONGODB_URI: "http://x", WS_SEND_BUFFER_LIMIT: "-1", LOG_LEVEL: "LOUD" })).toEqual([
      'PORT (--port) must be at most 65535, got "70000"',
      'HOST (--host) must not be empty, got " "',
      'MONGODB_URI (--mongodb-uri) must be a mongodb:// or mongodb+srv:// connection string with a host, got "http://x"',
      'WS_SEND_BUFFER_LIMIT (--send-buffer-limit) must be a whole number, got "-1"',
      'LOG_LEVEL (--log-level) must be one of debug, info, warn, error, got "LOUD"',
    ]);
  });

  test("refuses unknown flags and flags without a value", () => {
    expect(problemsOf({}, ["--prot", "1"])[0]).toContain("--prot");
    expect(problemsOf({}, ["--port"])[0]).toContain("--port");
  });

  test("answers --help and --version without validating anything", () => {
    expect(loadConfig({ PORT: "nope" }, ["--help"])).toMatchObject({ kind: "help", text: expect.stringContaining("MONGODB_URI") });
    expect(loadConfig({ PORT: "nope" }, ["--version"])).toEqual({ kind: "version" });
  });
});

describe("TRUST_PROXY", () => {
  const trust = (value: string) => (loadConfig({ TRUST_PROXY: value }, []) as { config: { trustProxy: unknown } }).config.trustProxy;

  test("is off, one proxy, or a list of addresses and CIDR ranges", () => {
    expect(trust("false")).toEqual({ hops: "none" });
    expect(trust("true")).toEqual({ hops: "one" });
    expect(trust("10.0.0.0/8, 192.168.1.7,fd00::/8")).toEqual({ hops: "listed", proxies: ["10.0.0.0/8", "192.168.1.7", "fd00::/8"] });
  });

  test("refuses anything else, naming the bad entries", () => {
    expect(problemsOf({ TRUST_PROXY: "yes" })[0]).toStartWith(
      'TRUST_PROXY (--trust-proxy) must be true, false, or a comma-separated list of IP addresses and CIDR ranges; not "yes"',
    );
    expect(problemsOf({ TRUST_PROXY: "10.0.0.0/33,1.2.3.4" })[0]).toContain('not "10.0.0.0/33"');
  });
});
