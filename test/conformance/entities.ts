import {
  GridFSBucket,
  type AbstractCursor,
  type ChangeStream,
  type ClientSession,
  type Collection,
  type Db,
  type MongoClient,
  type TopologyDescription,
} from "mongodb";
import { isDocument, type Document } from "./bson-values";
import { connectClient, createClient, type ClientEntity, type EntityEnvironment } from "./client-entity";
import { toCollectionOrDatabaseOptions, withDriverReadPreference } from "./common-options";
import type { MatchEntities } from "./match";
import { TestThread } from "./test-thread";
import { NotSupportedByRunner } from "./failures";

export type { ClientEntity, EntityEnvironment } from "./client-entity";

export type Entity =
  | ClientEntity
  | { kind: "database"; db: Db; client: ClientEntity }
  | { kind: "collection"; collection: Collection<Document>; client: ClientEntity }
  | { kind: "session"; session: ClientSession; client: ClientEntity }
  | { kind: "bucket"; bucket: GridFSBucket }
  | { kind: "changeStream"; stream: ChangeStream<Document> }
  | { kind: "cursor"; cursor: AbstractCursor<Document> }
  | { kind: "thread"; thread: TestThread }
  | { kind: "topologyDescription"; description: TopologyDescription }
  | { kind: "bson"; value: unknown };

export type EntityKind = Entity["kind"];
type EntityOf<K extends EntityKind> = Extract<Entity, { kind: K }>;

const ALL_KINDS: EntityKind[] = [
  "client",
  "database",
  "collection",
  "session",
  "bucket",
  "changeStream",
  "cursor",
  "thread",
  "topologyDescription",
  "bson",
];

/** The per-test entity map: unique names, typed look-ups, and cleanup of driver objects. */
export class EntityMap implements MatchEntities {
  private readonly entries = new Map<string, Entity>();

  set(id: string, entity: Entity): void {
    if (this.entries.has(id)) throw new Error(`entity "${id}" already exists`);
    this.entries.set(id, entity);
  }

  get<K extends EntityKind>(id: string, ...kinds: K[]): EntityOf<K> {
    const entity = this.entries.get(id);
    if (!entity) throw new Error(`entity "${id}" is not defined`);
    if (!kinds.includes(entity.kind as K)) throw new Error(`entity "${id}" is a ${entity.kind}, expected ${kinds.join(" or ")}`);
    return entity as EntityOf<K>;
  }

  /** Any entity, for operations whose target kind decides what they do. */
  lookup(id: string): Entity {
    return this.get(id, ...ALL_KINDS);
  }

  clients(): [string, ClientEntity][] {
    return [...this.entries].filter((entry): entry is [string, ClientEntity] => entry[1].kind === "client");
  }

  threads(): TestThread[] {
    return [...this.entries.values()].flatMap((entity) => (entity.kind === "thread" ? [entity.thread] : []));
  }

  bsonEntity(name: string): unknown {
    return this.get(name, "bson").value;
  }

  sessionLsid(name: string): unknown {
    return this.get(name, "session").session.id;
  }

  /** Closes cursors and change streams, ends sessions, then closes clients; never throws. */
  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    const quietly = (promise: Promise<unknown>) => promise.catch(() => undefined);
    await Promise.all(
      all.map((entity) => {
        if (entity.kind === "changeStream") return quietly(entity.stream.close());
        if (entity.kind === "cursor") return quietly(entity.cursor.close());
        if (entity.kind === "session") return quietly(entity.session.endSession());
        return undefined;
      }),
    );
    await Promise.all(all.map((entity) => (entity.kind === "client" ? quietly(entity.client.close(true)) : undefined)));
  }
}

/** Creates the entities of `createEntities`, in order, into `entities`; clients are connected. */
export async function createEntities(definitions: Document[], entities: EntityMap, env: EntityEnvironment): Promise<void> {
  for (const definition of definitions) {
    const [kind, ...more] = Object.keys(definition);
    const spec = kind === undefined ? undefined : definition[kind];
    if (!kind || more.length > 0 || !isDocument(spec) || typeof spec.id !== "string") {
      throw new Error(`malformed entity definition ${JSON.stringify(definition)}`);
    }
    const entity = createEntity(kind, spec, entities, env);
    entities.set(spec.id, entity);
    if (entity.kind === "client") await connectClient(entity);
  }
}

function createEntity(kind: string, spec: Document, entities: EntityMap, env: EntityEnvironment): Entity {
  switch (kind) {
    case "client":
      return createClient(spec, env);
    case "database": {
      const client = entities.get(String(spec.client), "client");
      const db = client.client.db(String(spec.databaseName), toCollectionOrDatabaseOptions(spec.databaseOptions));
      return { kind: "database", db, client };
    }
    case "collection": {
      const database = entities.get(String(spec.database), "database");
      const options = toCollectionOrDatabaseOptions(spec.collectionOptions);
      return { kind: "collection", collection: database.db.collection(String(spec.collectionName), options), client: database.client };
    }
    case "session": {
      const client = entities.get(String(spec.client), "client");
      return { kind: "session", session: client.client.startSession(sessionOptions(spec.sessionOptions, entities)), client };
    }
    case "bucket": {
      const { db } = entities.get(String(spec.database), "database");
      const options = isDocument(spec.bucketOptions) ? withDriverReadPreference(spec.bucketOptions) : {};
      return { kind: "bucket", bucket: new GridFSBucket(db, options) };
    }
    case "thread":
      return { kind: "thread", thread: new TestThread() };
    default:
      throw new NotSupportedByRunner(`entity type "${kind}"`);
  }
}

/** defaultTransactionOptions stay nested (readPreference made a driver object); snapshotTime names a saved entity. */
function sessionOptions(value: unknown, entities: EntityMap): Parameters<MongoClient["startSession"]>[0] {
  if (value === undefined) return {};
  if (!isDocument(value)) throw new Error("sessionOptions must be a document");
  const options: Document = { ...value };
  if (isDocument(options.defaultTransactionOptions)) {
    options.defaultTransactionOptions = withDriverReadPreference(options.defaultTransactionOptions);
  }
  if (typeof options.snapshotTime === "string") options.snapshotTime = entities.bsonEntity(options.snapshotTime);
  return options;
}
