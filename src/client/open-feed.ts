import { type BackoffPolicy, backoffDelay, defaultBackoff } from "../protocol/backoff.ts";
import { CloseCodes } from "../protocol/close-codes.ts";
import { type FeedFilter, filterQuery } from "../protocol/filter.ts";
import type { FeedFrame, Position } from "../protocol/frames.ts";
import type { PostView } from "../protocol/post-view.ts";
import { applyFrame, newestFirst } from "../protocol/view.ts";
import { type Connection, openWebSocketConnection } from "./connection.ts";
import { openEventStreamConnection } from "./event-stream-connection.ts";
import { ItemQueue } from "./item-queue.ts";
import { SnapshotRefused } from "./snapshot-refused.ts";
import { expiryOf } from "./token-expiry.ts";

/** How the client reaches the feed: `auto` tries the WebSocket first and falls back to SSE by itself. */
export type FeedTransportOption = "websocket" | "sse" | "auto";
/** The transport in use. */
export type FeedTransport = "websocket" | "sse";

export type FeedOptions = {
  /** The server: `http(s)://host:port` (or its `ws(s)://` address). */
  url: string | URL;
  filter?: FeedFilter;
  /**
   * Continue after this position instead of loading a snapshot first: the view then holds
   * only what arrives from here on.
   */
  since?: Position;
  /**
   * A bearer token for servers with authentication (sent as the `bearer.<token>` subprotocol and in
   * Authorization). A function is asked again before each connection and, on a live socket, shortly
   * before the token's `exp`, whose answer is sent as an `auth` frame so the socket stays open.
   */
  token?: string | (() => string | Promise<string>);
  /** How long before a token's `exp` a fresh one is asked for (default 30 s). */
  refreshBeforeMs?: number;
  /** How many posts a snapshot loads, following `next` (default 1,000). */
  maxPosts?: number;
  backoff?: BackoffPolicy;
  /**
   * `websocket`, `sse` (Server-Sent Events at /feed: one-way, passes proxies that refuse the
   * upgrade) or `auto` (default): the WebSocket first, and SSE from the moment a WebSocket cannot
   * be opened (while an event stream can) or keeps closing before its first frame.
   */
  transport?: FeedTransportOption;
  /** For runtimes without the globals, and for tests. */
  WebSocket?: typeof WebSocket;
  fetch?: typeof fetch;
};

/** Where the client is: loading or connecting, connected, waiting to reconnect, or stopped for good. */
export type FeedState = "connecting" | "live" | "backoff" | "closed";

/** What the iterator yields: every frame that changed the client's view, and a `reset` whenever it loaded a snapshot. */
export type FeedItem = Exclude<FeedFrame, { type: "resync" | "auth" }> | { type: "reset"; posts: PostView[]; position: Position };

type Listeners = {
  state: (state: FeedState) => void;
  frame: (frame: FeedItem) => void;
  reset: (posts: PostView[], position: Position) => void;
  /**
   * The server refused the feed for good: a close it says not to retry (e.g. 4400), or a refused
   * snapshot, given as 4000 + its HTTP status (400 → 4400, 401 → 4401, 403 → 4403) with the problem's words.
   */
  closed: (close: { code: number; reason: string }) => void;
};

/** The close codes after which reconnecting cannot help: the same request would be refused again. */
const TERMINAL = new Set<number>(Object.values(CloseCodes).flatMap((entry) => (entry.reconnect ? [] : [entry.code])));
const SUBPROTOCOL = "mongo-feed.v1";

export type Feed = AsyncIterable<FeedItem> & {
  /** The materialized view: posts by id, kept with the map rule. */
  readonly posts: ReadonlyMap<string, PostView>;
  /** The view as `GET /posts` lists it. */
  newestFirst(): PostView[];
  /** The last position seen: where a reconnect continues. */
  readonly position: Position | undefined;
  readonly state: FeedState;
  /** How many times the client reconnected (after its first connection). */
  readonly reconnects: number;
  /** The transport in use (or being tried). */
  readonly transport: FeedTransport;
  on<E extends keyof Listeners>(event: E, listener: Listeners[E]): () => void;
  /** Stops for good: closes the socket, ends the iteration. */
  close(): void;
};

/**
 * Opens the feed and keeps it open: snapshot (`GET /posts`) then stream from its position,
 * reconnecting after any close but the terminal ones with capped, jittered backoff, always
 * with `since` = the last position seen. On `resync` it loads a new snapshot, replaces its
 * view and emits one `reset`. Needs only `WebSocket` and `fetch`: browsers and Bun.
 */
export function openFeed(options: FeedOptions): Feed {
  const WebSocketImpl = options.WebSocket ?? globalThis.WebSocket;
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const base = new URL(options.url);
  base.protocol = base.protocol === "wss:" || base.protocol === "https:" ? "https:" : "http:";
  const filter = options.filter ?? {};
  const maxPosts = options.maxPosts ?? 1_000;
  const listeners = new Map<keyof Listeners, Set<Listeners[keyof Listeners]>>();
  const queue = new ItemQueue<FeedItem>();
  const view = new Map<string, PostView>();

  let position = options.since;
  let state: FeedState = "connecting";
  let socket: Connection | undefined;
  const choice = options.transport ?? "auto";
  let transport: FeedTransport = choice === "sse" ? "sse" : "websocket";
  /** Auto only: WebSockets in a row that closed before their first frame. */
  let silentWebSockets = 0;
  let attempt = 0;
  let connections = 0;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;

  const emit = <E extends keyof Listeners>(event: E, ...args: Parameters<Listeners[E]>) => {
    for (const listener of listeners.get(event) ?? []) (listener as (...a: Parameters<Listeners[E]>) => void)(...args);
  };
  const setState = (next: FeedState) => {
    if (next === state) return;
    state = next;
    emit("state", next);
  };
  const token = async () => (typeof options.token === "function" ? await options.token() : options.token);

  async function snapshot(): Promise<void> {
    const posts = new Map<string, PostView>();
    const bearer = await token();
    const page = async (path: string) => {
      const response = await fetchImpl(new URL(path, base), { headers: bearer ? { Authorization: `Bearer ${bearer}` } : {} });
      if (!response.ok) throw new SnapshotRefused(response.status, await response.text());
      const found = (await response.json()) as { posts: PostView[]; position: Position; next: string | null };
      for (const post of found.posts) posts.set(post.id, post);
      return found;
    };
    // The first page always: its position is where the socket resumes from.
    const first = await page(`/posts?${filterQuery(filter, new URLSearchParams({ limit: "100" }))}`);
    for (let next = first.next; next && posts.size < maxPosts; ) next = (await page(next)).next;
    if (stopped) return;
    view.clear();
    for (const [id, post] of posts) view.set(id, post);
    position = first.position;
    const item: FeedItem = { type: "reset", posts: newestFirst(view), position: first.position };
    queue.push(item);
    emit("reset", item.posts, item.position);
  }

  async function connect(): Promise<void> {
    if (stopped) return;
    setState("connecting");
    try {
      if (position === undefined) await snapshot();
      if (stopped) return;
      const url = new URL(transport === "sse" ? "/feed" : "/", base);
      if (transport === "websocket") url.protocol = base.protocol === "https:" ? "wss:" : "ws:";
      filterQuery(filter, url.searchParams);
      if (position !== undefined) url.searchParams.set("since", position);
      const bearer = await token();
      if (stopped) return;
      open(url, bearer);
    } catch (error) {
      // A refusal (bad filter, bad token) would be refused again; anything else is a server down or restarting.
      if (error instanceof SnapshotRefused && error.terminal) return finish({ code: 4000 + error.status, reason: error.reason });
      retry();
    }
  }

  function open(url: URL, bearer: string | undefined): void {
    let opened = false;
    let framed = false;
    const events = {
      open: () => {
        opened = true;
        connections++;
        attempt = 0;
        setState("live");
        if (bearer) scheduleRefresh(current, bearer);
      },
      message: (data: string) => {
        framed = true;
        silentWebSockets = 0;
        receive(current, data);
      },
      close: (close: { code: number; reason: string }) => {
        clearTimeout(refreshTimer);
        if (socket !== current || stopped) return;
        socket = undefined;
        if (TERMINAL.has(close.code)) return finish(close);
        if (choice === "auto") return fallBack(opened, framed);
        retry();
      },
    };
    const current: Connection =
      transport === "sse"
        ? openEventStreamConnection(fetchImpl, url, bearer, events)
        : openWebSocketConnection(WebSocketImpl, url, bearer ? [SUBPROTOCOL, `bearer.${bearer}`] : undefined, events);
    socket = current;
  }

  /**
   * Auto: a WebSocket that could not be opened is followed at once by an event stream; one that
   * closed before its first frame, twice in a row, too. An event stream that opens is kept; one
   * that cannot be opened either (a server down, not a proxy) hands back to the WebSocket.
   */
  function fallBack(opened: boolean, framed: boolean): void {
    if (transport === "websocket" && !framed) {
      silentWebSockets++;
      if (!opened || silentWebSockets >= 2) {
        transport = "sse";
        void connect();
        return;
      }
    } else if (transport === "sse" && !opened) {
      transport = "websocket";
      silentWebSockets = 0;
    }
    retry();
  }

  function receive(from: Connection, data: string): void {
    if (from !== socket) return;
    const frame = JSON.parse(data) as FeedFrame;
    if (frame.type === "resync") {
      // Reload: the next connection starts from a fresh snapshot.
      position = undefined;
      socket = undefined;
      from.close(1000, "resync");
      void connect();
      return;
    }
    if (frame.type === "auth") return; // the server's answer to a token refresh: nothing for the view
    if (frame.position === position) return; // never surface a duplicate
    position = frame.position;
    applyFrame(view, frame);
    queue.push(frame);
    emit("frame", frame);
  }

  /** Sends a fresh token shortly before the current one expires (only when `token` is a function). */
  function scheduleRefresh(current: Connection, bearer: string): void {
    if (typeof options.token !== "function") return;
    const exp = expiryOf(bearer);
    if (exp === undefined) return;
    clearTimeout(refreshTimer);
    const delay = Math.max(0, exp - Date.now() - (options.refreshBeforeMs ?? 30_000));
    refreshTimer = setTimeout(async () => {
      try {
        const fresh = await token();
        if (socket !== current || !fresh) return;
        // SSE has no way back: the server ends the stream with 4001 at expiry and the reconnect asks again.
        if (current.send(JSON.stringify({ type: "auth", token: fresh }))) scheduleRefresh(current, fresh);
      } catch {
        // no fresh token now: the server closes with 4001 at expiry and the reconnect asks again
      }
    }, delay);
  }

  function retry(): void {
    if (stopped) return;
    setState("backoff");
    timer = setTimeout(() => void connect(), backoffDelay(attempt++, options.backoff ?? defaultBackoff));
  }

  function finish(close?: { code: number; reason: string }): void {
    stopped = true;
    clearTimeout(timer);
    clearTimeout(refreshTimer);
    setState("closed");
    if (close) emit("closed", close);
    queue.end();
  }

  void connect();

  return {
    get posts() {
      return view;
    },
    newestFirst: () => newestFirst(view),
    get position() {
      return position;
    },
    get state() {
      return state;
    },
    get reconnects() {
      return Math.max(0, connections - 1);
    },
    get transport() {
      return transport;
    },
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) {
        set = new Set();
        listeners.set(event, set);
      }
      set.add(listener as Listeners[keyof Listeners]);
      return () => void set.delete(listener as Listeners[keyof Listeners]);
    },
    close() {
      if (stopped) return;
      const current = socket;
      socket = undefined;
      current?.close(1000, "client closed");
      finish();
    },
    [Symbol.asyncIterator]: () => queue.iterate(),
  };
}
