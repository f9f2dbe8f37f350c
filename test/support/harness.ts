import { afterAll, beforeAll } from "bun:test";
import { type Collection, MongoClient } from "mongodb";
import { type ConnectOptions, FeedClient } from "./feed-client.ts";
import { type MongoTarget, startMongoTarget, uniqueDatabase } from "./mongo-target.ts";
import type { Observed } from "./observed.ts";
import { type LogEntry, startTestFeed, type TestFeed } from "./test-feed.ts";

// The test harness: what a test file runs against, declared once at its top. Each `use…` registers
// beforeAll/afterAll in the scope it is called in (the file, or a describe) and returns accessors
// that are valid inside tests and later hooks. What a scope started is disposed after its tests,
// newest first: WebSocket clients and driver clients, then feeds, then MongoDB.

/** One MongoDB target (the replica set in MONGODB_URI, or a fresh emulator) for a whole scope. */
export type MongoFixture = {
  /** A connection string for `database` on the target. */
  uri(database: string): string;
  /** True when running against the emulator rather than a real deployment. */
  readonly emulated: boolean;
  /** A driver client on the target (connected on first use): fail points, any test database. */
  readonly driver: MongoClient;
};

/** A feed server running in this process on a free port, on a database of its own. */
export type FeedFixture = {
  readonly http: string;
  readonly ws: string;
  /** Everything the server observed about itself, awaitable. */
  readonly observed: Observed;
  /** Every log line the server wrote. */
  readonly logs: LogEntry[];
  /** The feed's database: unique to this fixture, so files never see each other's data. */
  readonly database: string;
  /** A connection string for the feed's database. */
  readonly uri: string;
  /** A driver client on the feed's database (`driver.db()`), as a script or the shell would write. */
  readonly driver: MongoClient;
  /** The feed's `posts` collection, through `driver`. */
  readonly posts: Collection;
  /** Opens a real WebSocket client on the feed (`query` without "?"); closed when the scope ends if still open. */
  connect(query?: string, options?: ConnectOptions): Promise<FeedClient>;
};

export type FeedOptions = {
  /** Prefix of the feed's database name (made unique), or another feed whose database and target to share (a second instance). */
  database: string | FeedFixture;
  /** Settings as environment variables; a function when they are known only once earlier hooks ran. */
  env?: Record<string, string> | (() => Record<string, string>);
  /** The target to share with the scope's other feeds; by default the feed gets a target of its own. */
  mongo?: MongoFixture;
};

/** Where a target disposes what it started and what runs on it: newest first, each thing once. */
const targetTeardowns = new WeakMap<MongoFixture, AsyncDisposableStack>();
/** The target each feed runs on, for a second feed sharing its database. */
const targets = new WeakMap<FeedFixture, MongoFixture>();

/** A value a beforeAll sets, with an error naming the fixture when read too early. */
function startedIn<T>(fixture: string): { set(value: T): void; get(): T; peek(): T | undefined } {
  let value: T | undefined;
  return {
    set: (started) => {
      value = started;
    },
    get: () => {
      if (value === undefined) throw new Error(`${fixture}: it starts in beforeAll; use it inside tests and later hooks`);
      return value;
    },
    peek: () => value,
  };
}

/** A driver client that connects on its first operation, closed with `teardown`. */
function lazyDriver(teardown: () => AsyncDisposableStack, uri: () => string): () => MongoClient {
  let client: MongoClient | undefined;
  return () => {
    if (!client) {
      const created = new MongoClient(uri(), { appName: "feed-tests" });
      teardown().defer(() => created.close());
      client = created;
    }
    return client;
  };
}

/** One MongoDB target for the scope: started before its tests, disposed (after everything on it) after them. */
export function useMongo(): MongoFixture {
  const target = startedIn<MongoTarget>("useMongo");
  const teardown = startedIn<AsyncDisposableStack>("useMongo");
  const driver = lazyDriver(teardown.get, () => target.get().uri("admin"));
  const fixture: MongoFixture = {
    uri: (database) => target.get().uri(database),
    get emulated() {
      return target.get().emulated;
    },
    get driver() {
      return driver();
    },
  };
  beforeAll(async () => {
    const stack = new AsyncDisposableStack();
    const started = await startMongoTarget();
    stack.use(started);
    target.set(started);
    teardown.set(stack);
    targetTeardowns.set(fixture, stack);
  });
  afterAll(async () => {
    await teardown.peek()?.disposeAsync();
  });
  return fixture;
}

/**
 * A feed server for the scope, on a unique database of `options.mongo` (or of a target of its
 * own): started before the scope's tests, closed after them with every client opened through it.
 */
export function useFeed(options: FeedOptions): FeedFixture {
  const shared = typeof options.database === "string" ? undefined : options.database;
  const mongo = (shared && targets.get(shared)) ?? options.mongo ?? useMongo();
  const database = typeof options.database === "string" ? uniqueDatabase(options.database) : options.database.database;
  const feed = startedIn<TestFeed>("useFeed");
  const teardown = startedIn<AsyncDisposableStack>("useFeed");
  const uri = () => mongo.uri(database);
  const driver = lazyDriver(teardown.get, uri);
  const fixture: FeedFixture = {
    get http() {
      return feed.get().http;
    },
    get ws() {
      return feed.get().ws;
    },
    get observed() {
      return feed.get().observed;
    },
    get logs() {
      return feed.get().logs;
    },
    database,
    get uri() {
      return uri();
    },
    get driver() {
      return driver();
    },
    get posts() {
      return driver().db().collection("posts");
    },
    async connect(query = "", connectOptions) {
      const client = await FeedClient.connect(`${feed.get().ws}${query ? `?${query}` : ""}`, connectOptions);
      teardown.get().defer(async () => {
        client.close();
        await client.closed; // the close handshake, before the server goes
      });
      return client;
    },
  };
  targets.set(fixture, mongo);
  beforeAll(async () => {
    const env = typeof options.env === "function" ? options.env() : options.env;
    const stack = new AsyncDisposableStack();
    // Registered with the target first, so the target closes only after this feed (in a file's
    // scope both afterAll hooks run when the file ends, in the order they were declared).
    targetTeardowns.get(mongo)?.defer(() => stack.disposeAsync());
    const started = await startTestFeed(uri(), env);
    stack.use(started);
    feed.set(started);
    teardown.set(stack);
  });
  afterAll(async () => {
    await teardown.peek()?.disposeAsync();
  });
  return fixture;
}
