import { expect } from "bun:test";

/** What a server wrote back on one raw TCP connection, and whether it closed it. */
export type RawAnswer = {
  /** Everything received, as text. */
  raw: string;
  /** The status of the first response, or undefined when nothing came back. */
  status: number | undefined;
  headers: Record<string, string>;
  body: string;
  /** True when the server closed the connection (false: it was still open after `timeoutMs`). */
  closed: boolean;
};

/**
 * Sends bytes exactly as given on a fresh TCP connection (no client library fixing them up)
 * and resolves once the server closes it, or after `timeoutMs` with what arrived.
 * `hangUpAfterMs` closes our side first, e.g. in the middle of a body.
 */
export async function rawRequest(
  base: string,
  request: string,
  { timeoutMs = 5_000, hangUpAfterMs }: { timeoutMs?: number; hangUpAfterMs?: number } = {},
): Promise<RawAnswer> {
  const { hostname, port } = new URL(base);
  const { promise, resolve } = Promise.withResolvers<RawAnswer>();
  const decoder = new TextDecoder();
  let raw = "";
  let timer: Timer | undefined;
  const finish = (closed: boolean) => {
    clearTimeout(timer);
    resolve(parse(raw, closed));
  };
  const socket = await Bun.connect({
    hostname,
    port: Number(port),
    socket: {
      data(_socket, chunk) {
        raw += decoder.decode(chunk, { stream: true });
      },
      close: () => finish(true),
      error: () => finish(true),
    },
  });
  socket.write(request);
  if (hangUpAfterMs !== undefined) setTimeout(() => socket.end(), hangUpAfterMs);
  timer = setTimeout(() => {
    socket.end();
    finish(false);
  }, timeoutMs);
  return promise;
}

function parse(raw: string, closed: boolean): RawAnswer {
  const headEnd = raw.indexOf("\r\n\r\n");
  const head = headEnd >= 0 ? raw.slice(0, headEnd) : raw;
  const [statusLine = "", ...lines] = head.split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
  const headers = Object.fromEntries(
    lines.flatMap((line) => {
      const colon = line.indexOf(":");
      return colon > 0 ? [[line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]] : [];
    }),
  );
  return { raw, status: status ? Number(status) : undefined, headers, body: headEnd >= 0 ? raw.slice(headEnd + 4) : "", closed };
}

/** A WebSocket handshake request for `path`, as raw text, with extra header lines. */
export function handshake(path = "/", extraHeaders: string[] = []): string {
  return [
    `GET ${path} HTTP/1.1`,
    "Host: feed.localhost",
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
    ...extraHeaders,
    "",
    "",
  ].join("\r\n");
}

/** No stack frames, paths, source lines or HTML: what Bun's development error page shows. */
export function expectNoInternals(text: string): void {
  expect(text).not.toMatch(/\bat .*:\d+|\.ts\b|\/work\/|<html|<!DOCTYPE|node_modules/i);
}
