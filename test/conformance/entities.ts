import {
  MongoClient,
  type AbstractCursor,
  type ChangeStream,
  type ClientSession,
  type Collection,
  type Db,
  type MongoClientOptions,
} from "mongodb";
import { isDocument, type Document } from "./bson-values";
import { CommandEventLog } from "./events";
import { toCollectionOrDatabaseOptions } from "./common-options";
import type { MatchEntities } from "./match";
import type { ServerInfo } from "./run-on-requirements";

export interface ClientEntity {
  kind: "client";
  client: MongoClient;
  events?: CommandEventLog;
}

export type Entity =
  | ClientEntity
  | { kind: "database"; db: Db; client: ClientEntity }
  | { kind: "collection"; collection: Collection<Document>; client: ClientEntity }
  | { kind: "session"; session: ClientSession }
  | { kind: "changeStream"; stream: ChangeStream<Document> }
  | { kind: "cursor"; cursor: AbstractCursor<Document> }
  | { kind: "bson"; value: unknown };

export type EntityKind = Entity["kind"];
type EntityOf<K extends EntityKind> = Extract<Entity, { kind: K }>;

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
    return this.get(id, "client", "database", "collection", "session", "changeStream", "cursor", "bson");
  }

  clients(): [string, ClientEntity][] {
    return [...this.entries].filter((entry): entry is [string, ClientEntity] => entry[1].kind === "client");
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

export interface EntityEnvironment {
  uri: string;
  server: ServerInfo;
}

const CLIENT_FIELDS = new Set([
  "id",
  "uriOptions",
  "useMultipleMongoses",
  "observeEvents",
  "ignoreCommandMonitoringEvents",
  "serverApi",
  "observeSensitiveCommands",
]);

/** Creates the entities of `createEntities`, in order, into `entities`. */
export function createEntities(definitions: Document[], entities: EntityMap, env: EntityEnvironment): void {
  for (const definition of definitions) {
    const [kind, ...more] = Object.keys(definition);
    const spec = kind === undefined ? undefined : definition[kind];
    if (!kind || more.length > 0 || !isDocument(spec) || typeof spec.id !== "string") {
      throw new Error(`malformed entity definition ${JSON.stringify(definition)}`);
    }
    entities.set(spec.id, createEntity(kind, spec, entities, env));
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
      return { kind: "session", session: client.client.startSession((spec.sessionOptions as Document | undefined) ?? {}) };
    }
    default:
      throw new Error(`entity type "${kind}" is not supported by this runner`);
  }
}

function createClient(spec: Document, env: EntityEnvironment): ClientEntity {
  for (const key of Object.keys(spec)) {
    if (!CLIENT_FIELDS.has(key)) throw new Error(`client option "${key}" is not supported by this runner`);
  }
  if (spec.observeSensitiveCommands === true) throw new Error("observeSensitiveCommands is not supported by this runner");
  checkMultipleMongoses(spec.useMultipleMongoses, env);
  // uriOptions override the connection string; MongoClientOptions take precedence over URI options.
  const options: MongoClientOptions = { ...((spec.uriOptions as Document | undefined) ?? {}), monitorCommands: true };
  if (isDocument(spec.serverApi)) options.serverApi = spec.serverApi as unknown as MongoClientOptions["serverApi"];
  const observeEvents = (spec.observeEvents as string[] | undefined) ?? [];
  const unsupported = observeEvents.filter((event) => !event.startsWith("command"));
  if (unsupported.length > 0) throw new Error(`observeEvents ${unsupported.join(", ")} are not supported by this runner`);
  const client = new MongoClient(env.uri, options);
  const events =
    observeEvents.length > 0
      ? new CommandEventLog(client, {
          observeEvents,
          ignoreCommandMonitoringEvents: (spec.ignoreCommandMonitoringEvents as string[] | undefined) ?? [],
        })
      : undefined;
  return events ? { kind: "client", client, events } : { kind: "client", client };
}

/** useMultipleMongoses only matters on sharded clusters, where the URI must already fit it. */
function checkMultipleMongoses(value: unknown, env: EntityEnvironment): void {
  if (value === undefined || env.server.topology !== "sharded") return;
  const hosts = (/^mongodb:\/\/(?:[^@/]*@)?([^/?]*)/.exec(env.uri)?.[1] ?? "").split(",").length;
  if (value === true && hosts < 2) throw new Error("useMultipleMongoses: true needs a URI with several mongos hosts");
  if (value === false && hosts > 1) throw new Error("useMultipleMongoses: false needs a URI with a single mongos host");
}
