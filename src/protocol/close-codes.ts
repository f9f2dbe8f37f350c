/**
 * Every close code the server sends, what it means and whether the client should
 * reconnect (with `since`). docs/websocket-protocol.md documents this table (test/docs.test.ts keeps them equal).
 */
export const CloseCodes = {
  goingAway: {
    code: 1001,
    reason: "server shutting down",
    reconnect: true,
    meaning: "the server is shutting down: reconnect (to another instance) with since",
  },
  // Sent by Bun itself (maxPayloadLength), with its own reason.
  messageTooBig: { code: 1009, reconnect: false, meaning: "the client sent a frame over 16 KiB" },
  tryAgainLater: {
    code: 1013,
    reason: "send buffer limit exceeded; reconnect with since",
    reconnect: true,
    meaning:
      "the client fell behind by more than WS_SEND_BUFFER_LIMIT: everything queued before the close was delivered; reconnect with since",
  },
  serverOverloaded: {
    code: 1013,
    reason: "server send buffers full; reconnect with since",
    reconnect: true,
    meaning:
      "all clients together fell behind by more than WS_SEND_BUFFER_TOTAL and this one held the most: everything queued before the close was delivered; reconnect with since",
  },
  // Never sent: what a client's WebSocket reports when the server drops the connection without a close frame.
  dropped: {
    code: 1006,
    reconnect: true,
    meaning:
      "dropped without a close frame (frames queued for it are discarded): past WS_SEND_BUFFER_TOTAL while heavier clients were still closing, or a failed handshake; reconnect with since, backing off",
  },
  badQuery: {
    code: 4400,
    reconnect: false,
    meaning: "the query (filter or since) is not valid; the reason says what is wrong. Nothing was replayed or subscribed",
  },
  keysUnavailable: {
    code: 1013,
    reason: "cannot check tokens right now; reconnect shortly",
    reconnect: true,
    meaning: "the server could not check the token (its identity provider's keys are unreachable): reconnect shortly with since",
  },
  tokenExpired: {
    code: 4001,
    reason: "token expired",
    reconnect: true,
    meaning: "the token's exp passed and no fresh one was sent in an auth frame: reconnect with a fresh token and since",
  },
  // The reason says what is wrong with the token (or that none was sent).
  unauthorized: {
    code: 4401,
    reconnect: false,
    meaning: "no token, or an invalid one (the reason says which): nothing was sent; reconnect only with a valid token",
  },
  tooManyRefreshes: {
    code: 4429,
    reason: "too many auth frames; refresh at most 5 times a minute",
    reconnect: true,
    meaning:
      "the client sent auth frames faster than 5 a minute (burst 5): reconnect with since after backing off, and refresh only when the token is close to expiring",
  },
  forbidden: {
    code: 4403,
    reason: "the refreshed token is for another subject",
    reconnect: false,
    meaning: "an auth frame carried a token for another sub: a socket keeps one identity; open a new one",
  },
} as const satisfies Record<string, { code: number; reason?: string; reconnect: boolean; meaning: string }>;

export type CloseCodeName = keyof typeof CloseCodes;
