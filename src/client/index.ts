// The typed client of the feed (`mongo-feed/client`): only WebSocket and fetch, for browsers and Bun.
export {
  type Feed,
  type FeedItem,
  type FeedOptions,
  type FeedState,
  type FeedTransport,
  type FeedTransportOption,
  openFeed,
} from "./open-feed.ts";
export type { FeedFilter } from "../protocol/filter.ts";
export type { FeedFrame, Position } from "../protocol/frames.ts";
export type { PostView } from "../protocol/post-view.ts";
