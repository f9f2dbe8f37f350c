/** What a server answered to a WebSocket handshake sent byte for byte (status, headers, body). */
export type HandshakeAnswer = { status: number; headers: Record<string, string>; body: string };

/**
 * Sends a WebSocket handshake over a plain TCP socket, so a test sees the HTTP answer a
 * browser would hide (a 403 before any upgrade, or exactly which subprotocol was echoed).
 */
export async function rawHandshake(url: string, headers: Record<string, string> = {}): Promise<HandshakeAnswer> {
  const target = new URL(url);
  const lines = [
    `GET ${target.pathname}${target.search} HTTP/1.1`,
    `Host: ${target.host}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  const { promise, resolve, reject } = Promise.withResolvers<string>();
  let received = "";
  const socket = await Bun.connect({
    hostname: target.hostname,
    port: Number(target.port),
    socket: {
      data(_socket, chunk) {
        received += new TextDecoder().decode(chunk);
        const [head, ...rest] = received.split("\r\n\r\n");
        if (rest.length === 0) return;
        const length = Number(/content-length: *(\d+)/i.exec(head!)?.[1] ?? 0);
        if (head!.startsWith("HTTP/1.1 101") || Buffer.byteLength(rest.join("\r\n\r\n")) >= length) resolve(received);
      },
      close: () => resolve(received),
      error: (_socket, error) => reject(error),
    },
  });
  socket.write(`${lines.join("\r\n")}\r\n\r\n`);
  const text = await promise;
  socket.end();
  const [head = "", ...rest] = text.split("\r\n\r\n");
  const [statusLine = "", ...headerLines] = head.split("\r\n");
  const answerHeaders = Object.fromEntries(
    headerLines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]),
  );
  return {
    status: Number(statusLine.split(" ")[1]),
    headers: answerHeaders,
    body: head.startsWith("HTTP/1.1 101") ? "" : rest.join("\r\n\r\n"),
  };
}
