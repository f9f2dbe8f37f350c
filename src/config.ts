import { parseArgs } from "node:util";
import * as v from "valibot";
import type { HostLimits } from "./host-limits.ts";
import { parseProxyTrust } from "./http/client-address.ts";

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

/** The share of the process's memory that queued WebSocket frames may take by default. */
export const SEND_BUFFER_TOTAL_SHARE = 1 / 4;

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

/**
 * Every setting: its environment variable, CLI flag, default and schema.
 * The README's configuration table mirrors this list.
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
    fallback: (host: HostLimits) => String(Math.floor(host.memoryBytes * SEND_BUFFER_TOTAL_SHARE)),
    fallbackHelp: "a quarter of the memory the process may use",
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
  trustProxy: {
    env: "TRUST_PROXY",
    flag: "trust-proxy",
    fallback: "false",
    schema: proxyTrust,
    help: "take the client address from X-Forwarded-For: true (one proxy in front), or the proxies' addresses/CIDRs",
  },
  logLevel: {
    env: "LOG_LEVEL",
    flag: "log-level",
    fallback: "info",
    schema: v.picklist(["debug", "info", "warn", "error"], "must be one of debug, info, warn, error"),
    help: "least severe log level printed",
  },
} as const;

type Settings = typeof settings;
type Setting = Settings[keyof Settings];
export type Config = Readonly<{ [K in keyof Settings]: v.InferOutput<Settings[K]["schema"]> }> & {
  /** Database named in the MongoDB URI's path (social_network when the path is empty). */
  readonly databaseName: string;
  /** The facts the derived defaults came from, so startup can say so. */
  readonly hostLimits: HostLimits;
};

/** Startup cannot go on: every problem with the configuration, at once. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
  }
}

export type ConfigRequest = { kind: "run"; config: Config } | { kind: "help"; text: string } | { kind: "version" };

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
  const values: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(settings) as [string, Setting][]) {
    const raw = flags.values[setting.flag] ?? env[setting.env] ?? fallbackOf(setting, host);
    const result = v.safeParse(setting.schema, raw);
    if (result.success) values[key] = result.output;
    else problems.push(`${setting.env} (--${setting.flag}) ${result.issues[0].message}, got ${JSON.stringify(raw)}`);
  }
  if (problems.length === 0) problems.push(...crossChecks(values as Config, host));
  if (problems.length > 0) throw new ConfigError(problems);

  const databaseName = databaseFromUri(values.mongodbUri as string);
  return { kind: "run", config: Object.freeze({ ...values, databaseName, hostLimits: host }) as Config };
}

function fallbackOf(setting: Setting, host: HostLimits): string {
  return typeof setting.fallback === "function" ? setting.fallback(host) : setting.fallback;
}

/** Settings that are valid alone but not together with the others or with the machine. */
function crossChecks(config: Config, host: HostLimits): string[] {
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
      options: { ...options, help: { type: "boolean", short: "h" }, version: { type: "boolean" } },
      strict: true,
      allowPositionals: false,
    });
    const { help, version, ...rest } = values;
    return { help: help === true, version: version === true, values: rest as Record<string, string | undefined> };
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
    const fallback = "fallbackHelp" in setting ? `${fallbackOf(setting, host)} here: ${setting.fallbackHelp}` : setting.fallback;
    return `  --${setting.flag.padEnd(22)} ${setting.env.padEnd(28)} ${setting.help} (default ${fallback})`;
  });
  return [
    "mongo-feed: a realtime MongoDB feed server (POST /posts, WebSocket at /)",
    "",
    "Usage: mongo-feed [flags]   (every flag also reads from its environment variable)",
    "",
    ...rows,
    "  -h, --help                 show this help",
    "  --version                  print the version",
  ].join("\n");
}
