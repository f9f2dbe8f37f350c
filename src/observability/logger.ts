export type LogLevel = "debug" | "info" | "warn" | "error";
export type Logger = Record<LogLevel, (msg: string, fields?: Record<string, unknown>) => void>;

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** One JSON object per line, so people can read it and machines (and tests) can parse it. */
export function createLogger(minimum: LogLevel, write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
  const at =
    (level: LogLevel) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (rank[level] < rank[minimum]) return;
      write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }, errorReplacer)}\n`);
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** Errors log as their name, message and code, never as stacks a client could see. */
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const { code, codeName } = value as Error & { code?: unknown; codeName?: unknown };
    return { name: value.name, message: value.message, code, codeName };
  }
  return typeof value === "bigint" ? value.toString() : value;
}
