import { parseArgs } from "node:util";
import * as v from "valibot";
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
    help: "how long startup and each request wait to reach MongoDB",
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
export type Config = Readonly<{ [K in keyof Settings]: v.InferOutput<Settings[K]["schema"]> }> & {
  /** Database named in the MongoDB URI's path (social_network when the path is empty). */
  readonly databaseName: string;
};

/** Startup cannot go on: every problem with the configuration, at once. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
  }
}

export type ConfigRequest = { kind: "run"; config: Config } | { kind: "help"; text: string } | { kind: "version" };

/** Reads the configuration once: CLI flags win over environment variables, which win over defaults. */
export function loadConfig(env: Record<string, string | undefined>, argv: readonly string[]): ConfigRequest {
  const flags = readFlags(argv);
  if (flags.help) return { kind: "help", text: helpText() };
  if (flags.version) return { kind: "version" };

  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(settings)) {
    const raw = flags.values[setting.flag] ?? env[setting.env] ?? setting.fallback;
    const result = v.safeParse(setting.schema, raw);
    if (result.success) values[key] = result.output;
    else problems.push(`${setting.env} (--${setting.flag}) ${result.issues[0].message}, got ${JSON.stringify(raw)}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const databaseName = databaseFromUri(values.mongodbUri as string);
  return { kind: "run", config: Object.freeze({ ...values, databaseName }) as Config };
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

function helpText(): string {
  const rows = Object.values(settings).map(
    (setting) => `  --${setting.flag.padEnd(22)} ${setting.env.padEnd(28)} ${setting.help} (default ${setting.fallback})`,
  );
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
