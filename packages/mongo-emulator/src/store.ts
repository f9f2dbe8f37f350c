/** Databases, collections and their documents, plus the namespace (DDL) operations that log events. */
import { UUID, type Document } from "bson";
import { CommandError } from "./errors.ts";
import type { Oplog } from "./oplog.ts";

export interface IndexSpec {
  v: number;
  key: Document;
  name: string;
  unique?: boolean;
  [option: string]: unknown;
}

/** One collection: documents keyed by their `_id` key (Map keeps natural insertion order). */
export class Collection {
  /** Assigned from the primary's when a secondary creates the collection. */
  uuid = new UUID();
  readonly docs = new Map<string, Document>();
  /** Every collection's first index, which dropIndexes refuses to drop. */
  readonly idIndex: IndexSpec = { v: 2, key: { _id: 1 }, name: "_id_" };
  indexes: IndexSpec[] = [this.idIndex];

  constructor(
    public db: string,
    public name: string,
    public options: Document = {},
  ) {}

  /** Whether writes keep pre- and post-images for change streams. */
  get preAndPostImages(): boolean {
    const setting = this.options.changeStreamPreAndPostImages as Document | undefined;
    return setting?.enabled === true;
  }
}

/** All databases; DDL operations append their change events to the oplog. */
export class Store {
  readonly #dbs = new Map<string, Map<string, Collection>>();

  constructor(readonly oplog: Oplog) {}

  /** Replaces every database with a copy of another store's (an initial sync; documents are never mutated in place, so they are shared). */
  copyFrom(source: Store): void {
    this.#dbs.clear();
    for (const [db, colls] of source.#dbs) {
      const copies = new Map<string, Collection>();
      for (const [name, coll] of colls) {
        const copy = new Collection(db, name, { ...coll.options });
        copy.uuid = coll.uuid;
        copy.indexes = coll.indexes.map((index) => ({ ...index }));
        for (const [key, doc] of coll.docs) copy.docs.set(key, doc);
        copies.set(name, copy);
      }
      this.#dbs.set(db, copies);
    }
  }

  /** Sets a collection's documents without logging anything (mongod's unreplicated `local` database). */
  putUnlogged(db: string, name: string, docs: Document[], options: Document = {}): void {
    const colls = this.#database(db);
    const coll = colls.get(name) ?? new Collection(db, name, options);
    coll.docs.clear();
    for (const doc of docs) coll.docs.set(String(coll.docs.size), doc);
    colls.set(name, coll);
  }

  /** A database's collections, created empty when it has none yet. */
  #database(db: string): Map<string, Collection> {
    const existing = this.#dbs.get(db);
    if (existing) return existing;
    const colls = new Map<string, Collection>();
    this.#dbs.set(db, colls);
    return colls;
  }

  databaseNames(): string[] {
    return [...this.#dbs.keys()];
  }

  collections(db: string): Collection[] {
    return [...(this.#dbs.get(db)?.values() ?? [])];
  }

  get(db: string, name: string): Collection | undefined {
    return this.#dbs.get(db)?.get(name);
  }

  /** Returns the collection, creating it implicitly (with a `create` event) when missing. */
  ensure(db: string, name: string): Collection {
    return this.get(db, name) ?? this.create(db, name, {});
  }

  /** Creates a collection; throws NamespaceExists (48) when it exists. */
  create(db: string, name: string, options: Document): Collection {
    validateNamespace(db, name);
    if (this.get(db, name)) throw new CommandError(48, `Collection ${db}.${name} already exists.`);
    const colls = this.#database(db);
    const coll = new Collection(db, name, options);
    colls.set(name, coll);
    const operationDescription: Document = { idIndex: { v: 2, key: { _id: 1 }, name: "_id_" } };
    for (const [key, value] of Object.entries(options)) operationDescription[key] = value;
    this.oplog.append({ op: "create", db, coll: name, uuid: coll.uuid, operationDescription });
    return coll;
  }

  /** Drops a collection; returns false when it did not exist. */
  drop(db: string, name: string): boolean {
    const coll = this.get(db, name);
    if (!coll) return false;
    this.#dbs.get(db)?.delete(name);
    this.oplog.append({ op: "drop", db, coll: name, uuid: coll.uuid });
    return true;
  }

  /** Drops every collection of a database (one `drop` event each), then logs `dropDatabase`. */
  dropDatabase(db: string): void {
    const colls = this.#dbs.get(db);
    if (!colls) return;
    for (const name of [...colls.keys()]) this.drop(db, name);
    this.#dbs.delete(db);
    this.oplog.append({ op: "dropDatabase", db });
  }

  /** Renames `from` to `to` (possibly across databases); drops the target first when asked. */
  rename(from: [string, string], to: [string, string], dropTarget: boolean): void {
    const [db, name] = from;
    const [toDb, toName] = to;
    const coll = this.get(db, name);
    if (!coll) throw new CommandError(26, "Source collection does not exist");
    validateNamespace(toDb, toName);
    const target = this.get(toDb, toName);
    if (target) {
      if (!dropTarget) throw new CommandError(48, "target namespace exists");
      this.drop(toDb, toName);
    }
    this.#dbs.get(db)?.delete(name);
    let colls = this.#dbs.get(toDb);
    if (!colls) {
      colls = new Map();
      this.#dbs.set(toDb, colls);
    }
    coll.db = toDb;
    coll.name = toName;
    colls.set(toName, coll);
    const operationDescription: Document = { to: { db: toDb, coll: toName } };
    if (target) operationDescription.dropTarget = target.uuid;
    this.oplog.append({
      op: "rename",
      db,
      coll: name,
      uuid: coll.uuid,
      to: { db: toDb, coll: toName },
      operationDescription,
    });
  }
}

function validateNamespace(db: string, name: string): void {
  if (db.length === 0 || /[/\\. "$]/.test(db)) throw new CommandError(73, `Invalid database name: '${db}'`);
  if (name.length === 0 || name.includes("$") || name.startsWith(".")) {
    throw new CommandError(73, `Invalid collection name: ${name}`);
  }
}
