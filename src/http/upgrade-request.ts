/** Whether a request asks to become a WebSocket. */
export const isUpgrade = (request: Request) => request.headers.get("upgrade")?.toLowerCase() === "websocket";
