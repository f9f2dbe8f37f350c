import type { Server } from "bun";

/**
 * An HTTP reverse proxy on a free port that passes plain requests (streaming the answers, so
 * an event stream goes through) but no WebSocket: it refuses every upgrade with 403, as proxies
 * that inspect TLS or do not speak WebSocket do, or (`"accept-and-close"`) accepts it and closes
 * the socket at once, as load balancers that cut WebSockets do. Counts the upgrades it refused.
 */
export class UpgradeRefusingProxy implements Disposable {
  readonly #server: Server<undefined>;
  refusedUpgrades = 0;

  constructor(target: string, how: "refuse" | "accept-and-close" = "refuse") {
    this.#server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      idleTimeout: 0, // an event stream may be quiet for long
      websocket: { open: (ws) => ws.close(1001, "going away"), message() {} },
      fetch: async (request, server) => {
        if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
          this.refusedUpgrades++;
          if (how === "accept-and-close" && server.upgrade(request)) return undefined;
          return new Response("WebSocket upgrades are not allowed through this proxy", { status: 403 });
        }
        const url = new URL(request.url);
        const headers = new Headers(request.headers);
        headers.delete("host");
        try {
          return await fetch(new URL(url.pathname + url.search, target), {
            method: request.method,
            headers,
            body: request.body,
            signal: request.signal,
            redirect: "manual",
            decompress: false,
          });
        } catch {
          return new Response("the server behind this proxy is unreachable", { status: 502 });
        }
      },
    });
  }

  get url(): string {
    return this.#server.url.href.replace(/\/$/, "");
  }

  [Symbol.dispose](): void {
    this.#server.stop(true);
  }
}
