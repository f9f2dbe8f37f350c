// What a client of the feed needs and nothing else: no server, MongoDB or Bun imports,
// so browsers and the typed client can import it.
export * from "./backoff.ts";
export * from "./close-codes.ts";
export * from "./filter.ts";
export * from "./frames.ts";
export * from "./post-view.ts";
export * from "./requests.ts";
export * from "./view.ts";
export * from "./stream-close.ts";
