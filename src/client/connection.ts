/** How a connection of either transport ended: a WebSocket close code, or the `close` frame an event stream ended with. */
export type ConnectionClose = { code: number; reason: string };

/** What a connection reports: opened, one frame (its JSON text), closed (once, whether or not it opened). */
export type ConnectionEvents = {
  open(): void;
  message(data: string): void;
  close(close: ConnectionClose): void;
};

/** One connection to the feed, whatever its transport. */
export type Connection = {
  /** Sends a client frame; false where the transport has no way back (SSE). */
  send(data: string): boolean;
  close(code: number, reason: string): void;
};

/** What a WebSocket reports as the code of a connection that broke without a close frame. */
export const ABNORMAL_CLOSURE = 1006;

/** The feed over a WebSocket. */
export function openWebSocketConnection(
  WebSocketImpl: typeof WebSocket,
  url: URL,
  protocols: string[] | undefined,
  events: ConnectionEvents,
): Connection {
  const socket = new WebSocketImpl(url, protocols);
  socket.onopen = () => events.open();
  socket.onmessage = (event) => events.message(String(event.data));
  socket.onclose = (event) => events.close({ code: event.code, reason: event.reason });
  return {
    send(data) {
      socket.send(data);
      return true;
    },
    close(code, reason) {
      socket.close(code, reason);
    },
  };
}
