// Defends: configuration is read once, flags win over the environment, and every problem is named at once.
import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig, type Config } from "../../src/config/config.ts";
import { cgroupMemoryLimitFiles, parseCgroupMemoryLimit, parseOpenFileLimit, type HostLimits } from "../../src/config/host-limits.ts";

const host: HostLimits = { openFiles: 20_000, memoryBytes: 8 * 1024 ** 3, memorySource: "cgroup" };

function problemsOf(env: Record<string, string>, argv: string[] = [], limits: HostLimits = host): readonly string[] {
  try {
    loadConfig(env, argv, limits);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  test("uses the documented defaults", () => {
    expect(loadConfig({}, [], host)).toEqual({
      kind: "run",
      config: {
        port: 8080,
        host: "0.0.0.0",
        mongodbUri: "mongodb://localhost:27017/social_network",
        connectTimeoutMs: 10_000,
        requestTimeoutMs: 10_000,
        feedReadPreference: "primary",
        groupCommit: true,
        historySize: 10_000,
        historyTtlSeconds: 300,
        sendBufferLimit: 1_048_576,
        sendBufferTotal: 256 * 1024 ** 2, // a quarter of the 8 GiB the process may use, at most 256 MiB (issue 19)
        maxConnections: 18_976, // the 20,000 open files minus 1,024 kept back
        maxConnectionsPerIp: 1_000,
        idleTimeoutSeconds: 60,
        sseHeartbeatSeconds: 15,
        trustProxy: { hops: "none" },
        authJwtSecret: undefined,
        authJwksUrl: undefined,
        authIssuer: undefined,
        authAudience: undefined,
        authPublicRead: false,
        authJwksCooldownSeconds: 30,
        allowedOrigins: { kind: "same-origin" },
        allowedHosts: { kind: "default" },
        writeRateLimitPerMinute: undefined,
        writeRateLimitBurst: undefined,
        metricsToken: undefined,
        logLevel: "info",
        databaseName: "social_network",
        auth: { mode: "off", publicRead: true },
        writeRateLimit: undefined,
        hostLimits: host,
      },
    });
  });

  test("derives the connection cap from the open-file limit, always below it", () => {
    const cap = (openFiles: number | undefined) =>
      (loadConfig({}, [], { ...host, openFiles }) as { config: { maxConnections: number } }).config.maxConnections;
    expect(cap(1_048_576)).toBe(1_048_576 - 1_024);
    expect(cap(1_024)).toBe(512);
    expect(cap(256)).toBe(128);
    expect(cap(undefined)).toBe(512); // not Linux: the usual 1,024 is assumed
    for (const openFiles of [64, 1_000, 4_096, 20_000, 65_536]) expect(cap(openFiles)).toBeLessThan(openFiles);
  });

  test("refuses a connection cap that leaves no descriptors for MongoDB, and a total budget below one socket's", () => {
    expect(problemsOf({ WS_MAX_CONNECTIONS: "19999", WS_SEND_BUFFER_LIMIT: "4194304", WS_SEND_BUFFER_TOTAL: "2097152" })).toEqual([
      "WS_MAX_CONNECTIONS (--max-connections) must leave 1024 of the 20000 open files (ulimit -n) for MongoDB, HTTP and files: at most 18976, got 19999; raise the limit or lower the cap",
      "WS_SEND_BUFFER_TOTAL (--send-buffer-total) must be at least WS_SEND_BUFFER_LIMIT (4194304), got 2097152",
    ]);
    expect(problemsOf({ WS_MAX_CONNECTIONS: "0" })).toEqual(['WS_MAX_CONNECTIONS (--max-connections) must be at least 1, got "0"']);
  });

  test("--help shows the derived defaults with where they come from", () => {
    const help = (loadConfig({}, ["--help"], host) as { text: string }).text;
    expect(help).toContain("(default 18976 here: the open-file limit minus a reserve for MongoDB, HTTP and files)");
    expect(help).toContain(`(default ${256 * 1024 ** 2} here: a quarter of the memory the process may use, at most 256 MiB)`);
  });

  test("FEED_READ_PREFERENCE takes MongoDB's read preference modes, and nothing else", () => {
    const readPreferenceOf = (value: string) => {
      const request = loadConfig({ FEED_READ_PREFERENCE: value }, [], host);
      return request.kind === "run" ? request.config.feedReadPreference : undefined;
    };
    expect(["primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest"].map(readPreferenceOf)).toEqual([
      "primary",
      "primaryPreferred",
      "secondary",
      "secondaryPreferred",
      "nearest",
    ]);
    expect(problemsOf({ FEED_READ_PREFERENCE: "SECONDARY" })).toEqual([
      'FEED_READ_PREFERENCE (--feed-read-preference) must be one of primary, primaryPreferred, secondary, secondaryPreferred, nearest, got "SECONDARY"',
    ]);
  });

  test("reads the environment, and flags win over it", () => {
    const request = loadConfig(
      { PORT: "9000", HOST: "127.0.0.1", MONGODB_URI: "mongodb://a,b/feeds?replicaSet=rs0" },
      ["--port", "9100"],
      host,
    );
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

describe("authentication settings", () => {
  const secret = "s".repeat(32);
  const configOf = (env: Record<string, string>) => (loadConfig(env, []) as { config: Config }).config;

  test("a secret of at least 32 bytes turns auth on, with the default write limit", () => {
    expect(configOf({ AUTH_JWT_SECRET: secret, AUTH_ISSUER: "https://id.example/", AUTH_AUDIENCE: "feed" })).toMatchObject({
      auth: { mode: "secret", secret, issuer: "https://id.example/", audience: ["feed"], publicRead: false },
      writeRateLimit: { perMinute: 60, burst: 20 },
    });
  });

  test("a JWKS URL needs an issuer and an audience; audiences are a comma-separated list", () => {
    const config = configOf({
      AUTH_JWKS_URL: "https://id.example/.well-known/jwks.json",
      AUTH_ISSUER: "https://id.example/",
      AUTH_AUDIENCE: "feed, feed-admin",
      AUTH_PUBLIC_READ: "TRUE",
      AUTH_JWKS_COOLDOWN_SECONDS: "5",
    });
    expect(config.auth).toEqual({
      mode: "jwks",
      jwksUrl: new URL("https://id.example/.well-known/jwks.json"),
      cooldownMs: 5000,
      issuer: "https://id.example/",
      audience: ["feed", "feed-admin"],
      publicRead: true,
    });
    expect(problemsOf({ AUTH_JWKS_URL: "https://id.example/jwks" })).toEqual([
      "AUTH_JWKS_URL needs AUTH_ISSUER: the iss your identity provider writes into its tokens",
      "AUTH_JWKS_URL needs AUTH_AUDIENCE: the aud your identity provider writes for this API",
    ]);
  });

  test("names every auth problem in the one startup error, and never echoes the secret", () => {
    const problems = problemsOf({
      AUTH_JWT_SECRET: "too-short-secret",
      AUTH_JWKS_URL: "http://id.example/jwks",
      ALLOWED_ORIGINS: "https://a.example/path",
    });
    expect(problems).toEqual([
      "AUTH_JWT_SECRET (--auth-jwt-secret) must be at least 32 bytes (generate one with: openssl rand -base64 48), got 16 bytes",
      'AUTH_JWKS_URL (--auth-jwks-url) must be an https:// URL (http:// only for localhost), got "http://id.example/jwks"',
      'ALLOWED_ORIGINS (--allowed-origins) must be *, or exact origins (scheme://host[:port], no path) comma-separated; not "https://a.example/path", got "https://a.example/path"',
    ]);
    expect(problems.join("\n")).not.toContain("too-short-secret");
    expect(problemsOf({ AUTH_JWT_SECRET: secret, AUTH_JWKS_URL: "https://id.example/jwks" })).toEqual([
      "AUTH_JWT_SECRET and AUTH_JWKS_URL are both set: choose one key source",
    ]);
  });

  test("checks that would silently not happen are refused: issuer, audience or public reads without a key", () => {
    expect(problemsOf({ AUTH_ISSUER: "https://id.example/", AUTH_PUBLIC_READ: "true" })).toEqual([
      "AUTH_ISSUER is set, but neither AUTH_JWT_SECRET nor AUTH_JWKS_URL is: auth would be off",
      "AUTH_PUBLIC_READ is set, but neither AUTH_JWT_SECRET nor AUTH_JWKS_URL is: auth would be off",
    ]);
  });

  test("write limits: none by default with auth off, per address once set; 0 means no limit", () => {
    expect(configOf({}).writeRateLimit).toBeUndefined();
    expect(configOf({ WRITE_RATE_LIMIT_PER_MINUTE: "120" }).writeRateLimit).toEqual({ perMinute: 120, burst: 20 });
    expect(configOf({ AUTH_JWT_SECRET: secret, WRITE_RATE_LIMIT_BURST: "0" }).writeRateLimit).toBeUndefined();
    expect(configOf({ AUTH_JWT_SECRET: secret, WRITE_RATE_LIMIT_PER_MINUTE: "0" }).writeRateLimit).toBeUndefined();
    expect(problemsOf({ WRITE_RATE_LIMIT_BURST: "lots" })).toEqual([
      'WRITE_RATE_LIMIT_BURST (--write-rate-limit-burst) must be a whole number, got "lots"',
    ]);
  });

  test("ALLOWED_ORIGINS: unset is same origin only, * is anyone, or exact origins normalized", () => {
    expect(configOf({ ALLOWED_ORIGINS: "*" }).allowedOrigins).toEqual({ kind: "any" });
    expect(configOf({ ALLOWED_ORIGINS: "https://App.example.com, http://localhost:3000/" }).allowedOrigins).toEqual({
      kind: "listed",
      origins: ["https://app.example.com", "http://localhost:3000"],
    });
  });
});

describe("host limits", () => {
  test("reads the soft open-file limit from /proc/self/limits", () => {
    const limits = [
      "Limit                     Soft Limit           Hard Limit           Units     ",
      "Max processes             96365                96365                processes ",
      "Max open files            20000                524288               files     ",
    ].join("\n");
    expect(parseOpenFileLimit(limits)).toBe(20_000);
    expect(parseOpenFileLimit("Max open files            unlimited            unlimited            files")).toBeUndefined();
    expect(parseOpenFileLimit("")).toBeUndefined();
  });

  test("reads cgroup v1 and v2 memory limits, where 'max' and 2^63 mean none", () => {
    expect(parseCgroupMemoryLimit("536870912\n")).toBe(512 * 1024 * 1024);
    expect(parseCgroupMemoryLimit("max\n")).toBeUndefined();
    expect(parseCgroupMemoryLimit("9223372036854771712\n")).toBeUndefined();
    expect(cgroupMemoryLimitFiles("0::/user.slice/app.scope\n")).toEqual([
      "/sys/fs/cgroup/user.slice/app.scope/memory.max",
      "/sys/fs/cgroup/memory.max",
    ]);
    expect(cgroupMemoryLimitFiles("4:memory:/docker/abc\n1:cpu:/\n")).toEqual([
      "/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes",
      "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]);
  });
});
