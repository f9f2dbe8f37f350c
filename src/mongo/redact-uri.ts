/**
 * The connection-string options that carry credentials: the MongoDB driver's own list
 * (mongodb-connection-string-url's redact) and their legacy spellings. authMechanismProperties is
 * masked whole: besides AWS_SESSION_TOKEN it may hold other providers' secrets.
 */
export const SENSITIVE_URI_OPTIONS = [
  "authMechanismProperties",
  "tlsCertificateKeyFilePassword",
  "sslPEMKeyPassword",
  "proxyUsername",
  "proxyPassword",
] as const;

const MASK = "****";
const sensitive = new Set(SENSITIVE_URI_OPTIONS.map((name) => name.toLowerCase()));

/** The userinfo's password and the sensitive options' values, as written and decoded. */
function secretsOf(uri: string): string[] {
  const { userinfo, query } = partsOf(uri);
  const raw: string[] = [];
  const colon = userinfo?.indexOf(":") ?? -1;
  if (userinfo && colon >= 0) raw.push(userinfo.slice(colon + 1));
  for (const pair of query?.split("&") ?? []) {
    const equals = pair.indexOf("=");
    if (equals > 0 && sensitive.has(pair.slice(0, equals).toLowerCase())) raw.push(pair.slice(equals + 1));
  }
  const decoded = raw.map((secret) => {
    try {
      return decodeURIComponent(secret);
    } catch {
      return secret;
    }
  });
  return [...new Set([...raw, ...decoded])].filter((secret) => secret.length > 0).sort((a, b) => b.length - a.length);
}

/**
 * Splits a connection string (well formed or not) into the userinfo (after `//`, up to the last
 * `@` before the query) and the query; works on what a person may mistype, too.
 */
function partsOf(uri: string): { userinfo: string | undefined; query: string | undefined } {
  const questionMark = uri.indexOf("?", uri.indexOf("@") + 1);
  const head = questionMark >= 0 ? uri.slice(0, questionMark) : uri;
  const query = questionMark >= 0 ? uri.slice(questionMark + 1) : undefined;
  const at = head.lastIndexOf("@");
  if (at < 0) return { userinfo: undefined, query };
  const slashes = head.indexOf("//");
  // Mistyped (`mongodb:/user:pass@host`): the userinfo starts after the last slash before the @.
  const start = slashes >= 0 && slashes < at ? slashes + 2 : head.lastIndexOf("/", at) + 1;
  return { userinfo: head.slice(start, at), query };
}

/** The connection string with its password and every sensitive option's value masked (user names stay: they help, and are not secrets). */
export function redactUri(uri: string): string {
  const { userinfo, query } = partsOf(uri);
  let redacted = uri;
  if (userinfo?.includes(":")) {
    const start = uri.indexOf(userinfo);
    const user = userinfo.slice(0, userinfo.indexOf(":"));
    redacted = `${uri.slice(0, start)}${user}:${MASK}${uri.slice(start + userinfo.length)}`;
  }
  if (query === undefined) return redacted;
  const maskedQuery = query
    .split("&")
    .map((pair) => {
      const equals = pair.indexOf("=");
      return equals > 0 && sensitive.has(pair.slice(0, equals).toLowerCase()) ? `${pair.slice(0, equals)}=${MASK}` : pair;
    })
    .join("&");
  return `${redacted.slice(0, redacted.length - query.length)}${maskedQuery}`;
}

/** `text` (an error message that may quote the connection string or part of it) with every secret of `uri` masked. */
export function redactSecrets(text: string, uri: string): string {
  let redacted = text.split(uri).join(redactUri(uri));
  for (const secret of secretsOf(uri)) redacted = redacted.split(secret).join(MASK);
  return redacted;
}
