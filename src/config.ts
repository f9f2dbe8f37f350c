import { parseArgs } from "node:util";
import * as v from "valibot";
import { jwksUrlProblem, MIN_SECRET_BYTES, type AuthSettings } from "./auth/auth-settings.ts";
import { parseProxyTrust } from "./http/client-address.ts";
import { parseOriginList } from "./http/origin-policy.ts";

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

const optionalText = v.pipe(
  v.string(),
  v.trim(),
  v.transform((text) => text || undefined),
);

const flag = v.pipe(
  v.string(),
  v.trim(),
  v.toLowerCase(),
  v.picklist(["true", "false"], "must be true or false"),
  v.transform((text) => text === "true"),
);

const secret = v.pipe(
  v.string(),
  v.check(
    (text) => text === "" || Buffer.byteLength(text) >= MIN_SECRET_BYTES,
    `must be at least ${MIN_SECRET_BYTES} bytes (generate one with: openssl rand -base64 48)`,
  ),
  v.transform((text) => text || undefined),
);

const jwksUrl = v.pipe(
  optionalText,
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    if (dataset.value === undefined) return undefined;
    const problem = jwksUrlProblem(dataset.value);
    if (!problem) return new URL(dataset.value);
    addIssue({ message: problem });
    return NEVER;
  }),
);

const commaList = v.pipe(
  v.string(),
  v.transform((text) =>
    text
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean),
  ),
  v.transform((items) => (items.length > 0 ? items : undefined)),
);

const origins = v.pipe(
  v.string(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const parsed = parseOriginList(dataset.value);
    if ("error" in parsed) {
      addIssue({ message: parsed.error });
      return NEVER;
    }
    return parsed;
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
  fallback: string;
  schema: v.GenericSchema<string, unknown>;
  help: string;
  /** Never echoed in an error message. */
  secret?: boolean;
  /** What --help says the default is, when it depends on other settings. */
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
};

const DEFAULT_WRITE_RATE = { perMinute: 60, burst: 20 };

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
  const parsed: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(settings) as [string, Setting][]) {
    const raw = flags.values[setting.flag] ?? env[setting.env] ?? setting.fallback;
    const result = v.safeParse(setting.schema, raw);
    const got = setting.secret ? `got ${Buffer.byteLength(raw)} bytes` : `got ${JSON.stringify(raw)}`;
    if (result.success) parsed[key] = result.output;
    else problems.push(`${setting.env} (--${setting.flag}) ${result.issues[0].message}, ${got}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const values = parsed as Values;
  const auth = authSettings(values, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  const databaseName = databaseFromUri(values.mongodbUri);
  const writeRateLimit = writeRateLimitOf(values, auth.mode !== "off");
  return { kind: "run", config: Object.freeze({ ...values, databaseName, auth, writeRateLimit }) };
}

/** The rules between the AUTH_* settings; each broken one is added to `problems`. */
function authSettings(values: Values, problems: string[]): AuthSettings {
  const { authJwtSecret: secret, authJwksUrl: jwksUrl, authIssuer: issuer, authAudience: audience, authPublicRead: publicRead } = values;
  if (secret && jwksUrl) {
    problems.push("AUTH_JWT_SECRET and AUTH_JWKS_URL are both set: choose one key source");
    return { mode: "off", publicRead: true };
  }
  if (jwksUrl) {
    if (!issuer) problems.push("AUTH_JWKS_URL needs AUTH_ISSUER: the iss your identity provider writes into its tokens");
    if (!audience) problems.push("AUTH_JWKS_URL needs AUTH_AUDIENCE: the aud your identity provider writes for this API");
    const cooldownMs = values.authJwksCooldownSeconds * 1000;
    return { mode: "jwks", jwksUrl, cooldownMs, issuer: issuer ?? "", audience: audience ?? [], publicRead };
  }
  if (secret) return { mode: "secret", secret, publicRead, ...(issuer ? { issuer } : {}), ...(audience ? { audience } : {}) };
  // Checks that would silently not happen: the operator believes tokens are checked.
  for (const [name, set] of [
    ["AUTH_ISSUER", issuer],
    ["AUTH_AUDIENCE", audience],
    ["AUTH_PUBLIC_READ", publicRead],
  ] as const) {
    if (set) problems.push(`${name} is set, but neither AUTH_JWT_SECRET nor AUTH_JWKS_URL is: auth would be off`);
  }
  return { mode: "off", publicRead: true };
}

/** With auth on, writes are limited by default; with it off, only when a limit is set. `0` means no limit. */
function writeRateLimitOf(values: Values, authOn: boolean): WriteRateLimit | undefined {
  const { writeRateLimitPerMinute: perMinute, writeRateLimitBurst: burst } = values;
  if (!authOn && perMinute === undefined && burst === undefined) return undefined;
  const limit = { perMinute: perMinute ?? DEFAULT_WRITE_RATE.perMinute, burst: burst ?? DEFAULT_WRITE_RATE.burst };
  return limit.perMinute === 0 || limit.burst === 0 ? undefined : limit;
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
  const rows = (Object.values(settings) as Setting[]).map(
    (setting) =>
      `  --${setting.flag.padEnd(28)} ${setting.env.padEnd(28)} ${setting.help} (default ${setting.fallbackHelp ?? (setting.fallback || "unset")})`,
  );
  return [
    "mongo-feed: a realtime MongoDB feed server (POST /posts, WebSocket at /)",
    "",
    "Usage: mongo-feed [flags]   (every flag also reads from its environment variable)",
    "",
    ...rows,
    `  ${"-h, --help".padEnd(30)} show this help`,
    `  ${"--version".padEnd(30)} print the version`,
  ].join("\n");
}
