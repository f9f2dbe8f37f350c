import type { ClientBulkWriteResult } from "mongodb";
import { isDocument, type Document } from "../bson-values";
import type { ClientEntity } from "../entities";
import { createChangeStream } from "./cursors";
import { CHANGE_STREAM, type ArgumentName, type Operations } from "./definition";
import { NotSupportedByRunner } from "../failures";

const LIST_DATABASES: ArgumentName[] = ["filter", "nameOnly", "authorizedDatabases", "comment", "timeoutMS"];
const MODEL_KINDS = new Set(["insertOne", "replaceOne", "updateOne", "updateMany", "deleteOne", "deleteMany"]);

/** { insertOne: { namespace, document } } → the driver's { name: "insertOne", namespace, document }. */
export function toClientBulkWriteModels(models: unknown): Document[] {
  if (!Array.isArray(models)) throw new Error("clientBulkWrite needs a models array");
  return models.map((model: unknown) => {
    const [name, ...more] = isDocument(model) ? Object.keys(model) : [];
    const fields = name === undefined ? undefined : (model as Document)[name];
    if (!name || more.length > 0 || !MODEL_KINDS.has(name) || !isDocument(fields)) {
      throw new NotSupportedByRunner(`clientBulkWrite model ${JSON.stringify(model)}`);
    }
    return { name, ...fields };
  });
}

/** The result's getters and index-keyed maps as a plain document. */
export function clientBulkWriteResultDocument(result: ClientBulkWriteResult): Document {
  const byIndex = (map: ReadonlyMap<number, unknown> | undefined) =>
    map === undefined ? undefined : Object.fromEntries([...map].map(([index, value]) => [String(index), { ...(value as Document) }]));
  return {
    insertedCount: result.insertedCount,
    upsertedCount: result.upsertedCount,
    matchedCount: result.matchedCount,
    modifiedCount: result.modifiedCount,
    deletedCount: result.deletedCount,
    insertResults: byIndex(result.insertResults),
    updateResults: byIndex(result.updateResults),
    deleteResults: byIndex(result.deleteResults),
  };
}

export const clientOperations: Operations<ClientEntity> = {
  createChangeStream: { args: CHANGE_STREAM, run: ({ client }, args) => createChangeStream(client, args) },
  listDatabases: {
    args: LIST_DATABASES,
    run: async ({ client }, o) => (await client.db("admin").admin().listDatabases(o)).databases,
  },
  listDatabaseNames: {
    args: LIST_DATABASES,
    run: async ({ client }, o) =>
      (
        await client
          .db("admin")
          .admin()
          .listDatabases({ ...o, nameOnly: true })
      ).databases.map((db) => db.name),
  },
  // The *Objects variants name the same driver call where a driver returns model objects.
  listDatabaseObjects: {
    args: LIST_DATABASES,
    run: async ({ client }, o) => (await client.db("admin").admin().listDatabases(o)).databases,
  },
  dropDatabase: {
    args: ["database", "comment", "timeoutMS"],
    run: ({ client }, { database, ...o }) => client.db(database).dropDatabase(o),
  },
  clientBulkWrite: {
    args: ["models", "ordered", "bypassDocumentValidation", "comment", "let", "writeConcern", "verboseResults", "timeoutMS"],
    run: async ({ client }, { models, ...o }) =>
      clientBulkWriteResultDocument(await client.bulkWrite(toClientBulkWriteModels(models) as never, o)),
  },
  close: { args: [], run: async ({ client }) => void (await client.close()) },
};
