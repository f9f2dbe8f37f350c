import * as v from "valibot";
import { jwksUrlProblem, MIN_SECRET_BYTES } from "../auth/auth-settings.ts";
import { parseHostList } from "../http/host-policy.ts";
import { parseOriginList } from "../http/origin-policy.ts";

// Value schemas of the settings in config.ts that are more than a number or a word.

export const optionalText = v.pipe(
  v.string(),
  v.trim(),
  v.transform((text) => text || undefined),
);

export const flag = v.pipe(
  v.string(),
  v.trim(),
  v.toLowerCase(),
  v.picklist(["true", "false"], "must be true or false"),
  v.transform((text) => text === "true"),
);

export const secret = v.pipe(
  v.string(),
  v.check(
    (text) => text === "" || Buffer.byteLength(text) >= MIN_SECRET_BYTES,
    `must be at least ${MIN_SECRET_BYTES} bytes (generate one with: openssl rand -base64 48)`,
  ),
  v.transform((text) => text || undefined),
);

export const jwksUrl = v.pipe(
  optionalText,
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    if (dataset.value === undefined) return undefined;
    const problem = jwksUrlProblem(dataset.value);
    if (!problem) return new URL(dataset.value);
    addIssue({ message: problem });
    return NEVER;
  }),
);

export const commaList = v.pipe(
  v.string(),
  v.transform((text) =>
    text
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean),
  ),
  v.transform((items) => (items.length > 0 ? items : undefined)),
);

export const origins = v.pipe(
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

export const hosts = v.pipe(
  v.string(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const parsed = parseHostList(dataset.value);
    if ("error" in parsed) {
      addIssue({ message: parsed.error });
      return NEVER;
    }
    return parsed;
  }),
);

/** A bearer token a scraper sends: long enough not to be guessed (16 bytes, e.g. openssl rand -hex 16 gives 32). */
export const MIN_METRICS_TOKEN_BYTES = 16;
export const metricsToken = v.pipe(
  v.string(),
  v.trim(),
  v.check(
    (text) => text === "" || (Buffer.byteLength(text) >= MIN_METRICS_TOKEN_BYTES && /^[\x21-\x7e]+$/.test(text)),
    `must be at least ${MIN_METRICS_TOKEN_BYTES} bytes of printable ASCII without spaces (generate one with: openssl rand -hex 32)`,
  ),
  v.transform((text) => text || undefined),
);
