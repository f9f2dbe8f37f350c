import { parseArgs } from "node:util";
import * as v from "valibot";
import { resolveAuthSettings, type AuthSettings } from "../auth/auth-settings.ts";
import type { HostLimits } from "./host-limits.ts";
import { parseProxyTrust } from "../http/client-address.ts";
import { redactUri } from "../mongo/redact-uri.ts";
import { commaList, flag, hosts, jwksUrl, metricsToken, optionalText, origins, secret } from "./setting-schemas.ts";

const wholeNumber = (min: number, max: number) =>
  v.pipe(
    v.string(),
    v.trim(),
    v.regex(/^\d+$/, "must be a whole number"),
    v.transform(Number),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  );

const mongodbUri = v.pipe(
  v.string(),
  v.trim(),
  v.regex(/^mongodb(\+srv)?:\/\/[^/?]+/, "must be a mongodb:// or mongodb+srv:// connection string with a host"),
);

/** MongoDB's read preference modes, for FEED_READ_PREFERENCE. */
export const FEED_READ_PREFERENCES = ["primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest"] as const;

/** When the open-file limit cannot be read (not Linux), the usual soft default is assumed. */
const ASSUMED_OPEN_FILES = 1024;

/**
 * Descriptors kept back from WebSockets for everything else the process opens: MongoDB
 * (up to 100 pooled connections per member plus monitors), HTTP requests in flight, files.
 * Half the limit when the limit is small.
 */
export function descriptorReserve(openFiles: number): number {
  return Math.min(1024, Math.floor(openFiles / 2));
}

/** The default WS_MAX_CONNECTIONS: the open-file limit minus the reserve. */
export function defaultMaxConnections(host: HostLimits): number {
  const openFiles = host.openFiles ?? ASSUMED_OPEN_FILES;
  return openFiles - descriptorReserve(openFiles);
}

/** The share of the process's memory that queued WebSocket frames may take by default... */
export const SEND_BUFFER_TOTAL_SHARE = 1 / 4;
/**
 * ...and at most this much: what slow clients may pin is the feed's cost of them, not a share of
 * the machine. Measured (docs/limits-and-abuse.md): 1,000 sockets replaying and never reading
 * hold about 100 MiB, well under it; readers that keep up hold nothing.
 */
export const SEND_BUFFER_TOTAL_CAP = 256 * 1024 * 1024;

/** Used when the caller has no facts about the machine (tests of the parsing itself). */
export const ASSUMED_HOST_LIMITS: HostLimits = { openFiles: ASSUMED_OPEN_FILES, memoryBytes: 4 * 1024 ** 3, memorySource: "physical" };

const proxyTrust = v.pipe(
  v.string(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const trust = parseProxyTrust(dataset.value);
    if ("error" in trust) {
      addIssue({ message: trust.error });
      return NEVER;
    }
    return trust;
  }),
);

/** A whole number, or empty for "the default that depends on other settings". */
const optionalWholeNumber = (max: number) =>
  v.pipe(
    v.string(),
    v.trim(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      if (dataset.value === "") return undefined;
      const number = v.safeParse(wholeNumber(0, max), dataset.value);
      if (number.success) return number.output;
      addIssue({ message: number.issues[0].message });
      return NEVER;
    }),
  );

/**
 * Every setting: its environment variable, CLI flag, default and schema.
 * docs/configuration.md documents this list (test/docs.test.ts keeps its table equal to --help).
 */
const settings = {
  port: {
    env: "PORT",
    flag: "port",
    fallback: "8080",
    schema: wholeNumber(0, 65535),
    help: "HTTP and WebSocket port (0 picks a free one)",
  },
  host: {
    env: "HOST",
    flag: "host",
    fallback: "0.0.0.0",
    schema: v.pipe(v.string(), v.trim(), v.nonEmpty("must not be empty")),
    help: "interface to listen on",
  },
  mongodbUri: {
    env: "MONGODB_URI",
    flag: "mongodb-uri",
    fallback: "mongodb://localhost:27017/social_network",
    schema: mongodbUri,
    shown: redactUri,
    help: "MongoDB replica set or sharded cluster; the database comes from the path",
  },
  connectTimeoutMs: {
    env: "MONGODB_CONNECT_TIMEOUT_MS",
    flag: "connect-timeout-ms",
    fallback: "10000",
    schema: wholeNumber(100, 600_000),
    help: "how long startup waits to reach MongoDB (and the driver's server selection and connect timeouts)",
  },
  requestTimeoutMs: {
    env: "REQUEST_TIMEOUT_MS",
    flag: "request-timeout-ms",
    fallback: "10000",
    schema: wholeNumber(100, 600_000),
    help: "one deadline per request for everything it waits on (MongoDB, retries included, and the change stream)",
  },
  feedReadPreference: {
    env: "FEED_READ_PREFERENCE",
    flag: "feed-read-preference",
    fallback: "primary",
    schema: v.picklist(FEED_READ_PREFERENCES, `must be one of ${FEED_READ_PREFERENCES.join(", ")}`),
    help: "where the change stream (and its replay after a restart) reads: secondary modes keep a fleet's streams off the primary; writes and GET /posts stay on the primary",
  },
  groupCommit: {
    env: "POST_GROUP_COMMIT",
    flag: "group-commit",
    fallback: "true",
    schema: flag,
    help: "true: the POSTs of one event-loop turn are inserted with one insertMany (each still gets its own answer)",
  },
  historySize: {
    env: "FEED_HISTORY_SIZE",
    flag: "history-size",
    fallback: "10000",
    schema: wholeNumber(1, 1_000_000),
    help: "events kept in memory for reconnecting clients",
  },
  historyTtlSeconds: {
    env: "FEED_HISTORY_TTL_SECONDS",
    flag: "history-ttl-seconds",
    fallback: "300",
    schema: wholeNumber(1, 86_400),
    help: "how long an event stays replayable",
  },
  sendBufferLimit: {
    env: "WS_SEND_BUFFER_LIMIT",
    flag: "send-buffer-limit",
    fallback: "1048576",
    schema: wholeNumber(1024, 1 << 30),
    help: "bytes queued for one WebSocket before it is closed with 1013",
  },
  sendBufferTotal: {
    env: "WS_SEND_BUFFER_TOTAL",
    flag: "send-buffer-total",
    fallback: (host: HostLimits) => String(Math.min(SEND_BUFFER_TOTAL_CAP, Math.floor(host.memoryBytes * SEND_BUFFER_TOTAL_SHARE))),
    fallbackHelp: "a quarter of the memory the process may use, at most 256 MiB",
    schema: wholeNumber(1024 * 1024, Number.MAX_SAFE_INTEGER),
    help: "memory that queued frames may take across all WebSockets; past it the sockets holding the most are closed",
  },
  maxConnections: {
    env: "WS_MAX_CONNECTIONS",
    flag: "max-connections",
    fallback: (host: HostLimits) => String(defaultMaxConnections(host)),
    fallbackHelp: "the open-file limit minus a reserve for MongoDB, HTTP and files",
    schema: wholeNumber(1, 10_000_000),
    help: "WebSocket connections in total; past it a handshake gets 503",
  },
  maxConnectionsPerIp: {
    env: "WS_MAX_CONNECTIONS_PER_IP",
    flag: "max-connections-per-ip",
    fallback: "1000",
    schema: wholeNumber(1, 10_000_000),
    help: "WebSocket connections per client address; past it a handshake gets 429",
  },
  idleTimeoutSeconds: {
    env: "WS_IDLE_TIMEOUT_SECONDS",
    flag: "idle-timeout-seconds",
    fallback: "60",
    schema: wholeNumber(5, 960),
    help: "a WebSocket silent this long (no pong) is dropped",
  },
  sseHeartbeatSeconds: {
    env: "SSE_HEARTBEAT_SECONDS",
    flag: "sse-heartbeat-seconds",
    fallback: "15",
    schema: wholeNumber(1, 3600),
    help: "a comment line on every SSE feed stream this often, so proxies keep quiet streams open",
  },
  trustProxy: {
    env: "TRUST_PROXY",
    flag: "trust-proxy",
    fallback: "false",
    schema: proxyTrust,
    help: "take the client address from X-Forwarded-For: true (one proxy in front), or the proxies' addresses/CIDRs",
  },
  authJwtSecret: {
    env: "AUTH_JWT_SECRET",
    flag: "auth-jwt-secret",
    fallback: "",
    schema: secret,
    secret: true,
    help: "HS256 secret that signs tokens (at least 32 bytes); prefer the variable, flags show in ps",
  },
  authJwksUrl: {
    env: "AUTH_JWKS_URL",
    flag: "auth-jwks-url",
    fallback: "",
    schema: jwksUrl,
    help: "JWKS endpoint of your identity provider (RS256, ES256, EdDSA keys); needs AUTH_ISSUER and AUTH_AUDIENCE",
  },
  authIssuer: {
    env: "AUTH_ISSUER",
    flag: "auth-issuer",
    fallback: "",
    schema: optionalText,
    help: "the iss every token must carry",
  },
  authAudience: {
    env: "AUTH_AUDIENCE",
    flag: "auth-audience",
    fallback: "",
    schema: commaList,
    help: "the aud every token must carry (comma-separated: any of them)",
  },
  authPublicRead: {
    env: "AUTH_PUBLIC_READ",
    flag: "auth-public-read",
    fallback: "false",
    schema: flag,
    help: "true: reading (GET /posts, the WebSocket) needs no token; writing always does when auth is on",
  },
  authJwksCooldownSeconds: {
    env: "AUTH_JWKS_COOLDOWN_SECONDS",
    flag: "auth-jwks-cooldown-seconds",
    fallback: "30",
    schema: wholeNumber(0, 3600),
    help: "after fetching the JWKS, how long an unknown kid waits before it may trigger another fetch",
  },
  allowedOrigins: {
    env: "ALLOWED_ORIGINS",
    flag: "allowed-origins",
    fallback: "",
    schema: origins,
    help: "browser origins allowed to call the API and open sockets: exact origins, comma-separated, or *; unset: same origin only",
  },
  allowedHosts: {
    env: "ALLOWED_HOSTS",
    flag: "allowed-hosts",
    fallback: "",
    schema: hosts,
    help: "Host names the server answers to (against DNS rebinding): names comma-separated, or *; loopback names and IP literals always",
    fallbackHelp: "loopback names and IP literals, and any name when auth is on",
  },
  writeRateLimitPerMinute: {
    env: "WRITE_RATE_LIMIT_PER_MINUTE",
    flag: "write-rate-limit-per-minute",
    fallback: "",
    schema: optionalWholeNumber(1_000_000),
    help: "writes per minute per identity (0: no limit)",
    fallbackHelp: "60 with auth on, no limit with auth off",
  },
  writeRateLimitBurst: {
    env: "WRITE_RATE_LIMIT_BURST",
    flag: "write-rate-limit-burst",
    fallback: "",
    schema: optionalWholeNumber(1_000_000),
    help: "writes an identity may make at once before the per-minute rate applies (0: no limit)",
    fallbackHelp: "20 with auth on, no limit with auth off",
  },
  metricsToken: {
    env: "METRICS_TOKEN",
    flag: "metrics-token",
    fallback: "",
    schema: metricsToken,
    secret: true,
    help: "when set, GET /metrics needs Authorization: Bearer <token> (Prometheus: authorization.credentials); prefer the variable, flags show in ps",
    fallbackHelp: "unset: /metrics is public",
  },
  logLevel: {
    env: "LOG_LEVEL",
    flag: "log-level",
    fallback: "info",
    schema: v.picklist(["debug", "info", "warn", "error"], "must be one of debug, info, warn, error"),
    help: "least severe log level printed",
  },
} as const satisfies Record<string, Setting>;

type Setting = {
  env: string;
  flag: string;
  fallback: string | ((host: HostLimits) => string);
  schema: v.GenericSchema<string, unknown>;
  help: string;
  /** Never echoed in an error message. */
  secret?: boolean;
  /** How an error message shows the value, when parts of it are secret. */
  shown?: (raw: string) => string;
  /** What --help says the default is, when it depends on other settings or on the machine. */
  fallbackHelp?: string;
};
type Settings = typeof settings;
type Values = { [K in keyof Settings]: v.InferOutput<Settings[K]["schema"]> };

/** A token bucket per identity: `perMinute` sustained, `burst` at once. */
export type WriteRateLimit = { perMinute: number; burst: number };

export type Config = Readonly<Values> & {
  /** Database named in the MongoDB URI's path (social_network when the path is empty). */
  readonly databaseName: string;
  /** How tokens are checked (from the AUTH_* settings). */
  readonly auth: AuthSettings;
  /** Undefined: writes are not rate limited. */
  readonly writeRateLimit: WriteRateLimit | undefined;
  /** The facts the derived defaults came from, so startup can say so. */
  readonly hostLimits: HostLimits;
};

const DEFAULT_WRITE_RATE = { perMinute: 60, burst: 20 };

/** Startup cannot go on: every problem with the configuration, at once. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
  }
}

export type ConfigRequest =
  | { kind: "run"; config: Config }
  /** `--health-check`: ask a server with this configuration whether it is live (for container health checks). */
  | { kind: "health-check"; config: Config }
  | { kind: "help"; text: string }
  | { kind: "version" };

/**
 * Reads the configuration once: CLI flags win over environment variables, which win over
 * defaults. `host` holds the facts some defaults are derived from (read by the entry point).
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  argv: readonly string[],
  host: HostLimits = ASSUMED_HOST_LIMITS,
): ConfigRequest {
  const flags = readFlags(argv);
  if (flags.help) return { kind: "help", text: helpText(host) };
  if (flags.version) return { kind: "version" };

  const problems: string[] = [];
  const parsed: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(settings) as [string, Setting][]) {
    const raw = flags.values[setting.flag] ?? env[setting.env] ?? fallbackOf(setting, host);
    const result = v.safeParse(setting.schema, raw);
    const got = setting.secret ? `got ${Buffer.byteLength(raw)} bytes` : `got ${JSON.stringify(setting.shown ? setting.shown(raw) : raw)}`;
    if (result.success) parsed[key] = result.output;
    else problems.push(`${setting.env} (--${setting.flag}) ${result.issues[0].message}, ${got}`);
  }
  if (problems.length === 0) problems.push(...crossChecks(parsed as Values, host));
  if (problems.length > 0) throw new ConfigError(problems);
  const values = parsed as Values;
  const auth = resolveAuthSettings(
    {
      secret: values.authJwtSecret,
      jwksUrl: values.authJwksUrl,
      issuer: values.authIssuer,
      audience: values.authAudience,
      publicRead: values.authPublicRead,
      cooldownSeconds: values.authJwksCooldownSeconds,
    },
    problems,
  );
  if (problems.length > 0) throw new ConfigError(problems);

  const databaseName = databaseFromUri(values.mongodbUri);
  const writeRateLimit = writeRateLimitOf(values, auth.mode !== "off");
  const config: Config = Object.freeze({ ...values, databaseName, auth, writeRateLimit, hostLimits: host });
  return { kind: flags.healthCheck ? "health-check" : "run", config };
}

/** With auth on, writes are limited by default; with it off, only when a limit is set. `0` means no limit. */
function writeRateLimitOf(values: Values, authOn: boolean): WriteRateLimit | undefined {
  const { writeRateLimitPerMinute: perMinute, writeRateLimitBurst: burst } = values;
  if (!authOn && perMinute === undefined && burst === undefined) return undefined;
  const limit = { perMinute: perMinute ?? DEFAULT_WRITE_RATE.perMinute, burst: burst ?? DEFAULT_WRITE_RATE.burst };
  return limit.perMinute === 0 || limit.burst === 0 ? undefined : limit;
}

function fallbackOf(setting: Setting, host: HostLimits): string {
  return typeof setting.fallback === "function" ? setting.fallback(host) : setting.fallback;
}

/** Settings that are valid alone but not together with the others or with the machine. */
function crossChecks(config: Values, host: HostLimits): string[] {
  const problems: string[] = [];
  if (host.openFiles !== undefined && config.maxConnections > defaultMaxConnections(host)) {
    problems.push(
      `WS_MAX_CONNECTIONS (--max-connections) must leave ${descriptorReserve(host.openFiles)} of the ${host.openFiles} open files ` +
        `(ulimit -n) for MongoDB, HTTP and files: at most ${defaultMaxConnections(host)}, got ${config.maxConnections}; raise the limit or lower the cap`,
    );
  }
  if (config.sendBufferTotal < config.sendBufferLimit) {
    problems.push(
      `WS_SEND_BUFFER_TOTAL (--send-buffer-total) must be at least WS_SEND_BUFFER_LIMIT (${config.sendBufferLimit}), got ${config.sendBufferTotal}`,
    );
  }
  return problems;
}

function readFlags(argv: readonly string[]) {
  const options = Object.fromEntries(Object.values(settings).map((setting) => [setting.flag, { type: "string" as const }]));
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: "boolean", short: "h" }, version: { type: "boolean" }, "health-check": { type: "boolean" } },
      strict: true,
      allowPositionals: false,
    });
    const { help, version, "health-check": healthCheck, ...rest } = values;
    return {
      help: help === true,
      version: version === true,
      healthCheck: healthCheck === true,
      values: rest as Record<string, string | undefined>,
    };
  } catch (error) {
    // parseArgs explains unknown flags and missing values well; keep its words.
    throw new ConfigError([(error as Error).message]);
  }
}

function databaseFromUri(uri: string): string {
  const path = /^mongodb(?:\+srv)?:\/\/[^/?]+\/([^?]*)/.exec(uri)?.[1] ?? "";
  return decodeURIComponent(path) || "social_network";
}

function helpText(host: HostLimits): string {
  const rows = (Object.values(settings) as Setting[]).map((setting) => {
    const fallback =
      typeof setting.fallback === "function"
        ? `${fallbackOf(setting, host)} here: ${setting.fallbackHelp}`
        : (setting.fallbackHelp ?? (setting.fallback || "unset"));
    return `  --${setting.flag.padEnd(28)} ${setting.env.padEnd(28)} ${setting.help} (default ${fallback})`;
  });
  return [
    "mongo-feed: a realtime MongoDB feed server (POST /posts, WebSocket at /)",
    "",
    "Usage: mongo-feed [flags]   (every flag also reads from its environment variable)",
    "",
    ...rows,
    `  ${"-h, --help".padEnd(30)} show this help`,
    `  ${"--version".padEnd(30)} print the version`,
    `  ${"--health-check".padEnd(30)} exit 0 if a server on this PORT answers /health/live, else 1 (for container health checks)`,
  ].join("\n");
}
