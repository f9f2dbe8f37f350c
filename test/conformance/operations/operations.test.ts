// Defends: the runner hands the format's write models to the driver in its shape, and refuses arguments it does not know.
import { describe, expect, test } from "bun:test";
import type { ClientBulkWriteResult } from "mongodb";
import { clientBulkWriteResultDocument, toClientBulkWriteModels } from "./client";
import { definitionFor } from "./definition";
import { collectionOperations } from "./collection";

describe("clientBulkWrite", () => {
  test("models become the driver's { name, namespace, ... } objects", () => {
    const models = [{ insertOne: { namespace: "db.c", document: { _id: 1 } } }, { deleteMany: { namespace: "db.c", filter: {} } }];
    expect(toClientBulkWriteModels(models)).toEqual([
      { name: "insertOne", namespace: "db.c", document: { _id: 1 } },
      { name: "deleteMany", namespace: "db.c", filter: {} },
    ]);
    expect(() => toClientBulkWriteModels([{ upsertOne: { namespace: "db.c" } }])).toThrow("is not supported by this runner");
  });

  test("verbose results are documents keyed by model index", () => {
    const result = {
      insertedCount: 1,
      upsertedCount: 0,
      matchedCount: 0,
      modifiedCount: 0,
      deletedCount: 0,
      insertResults: new Map([[0, { insertedId: 1 }]]),
    } as unknown as ClientBulkWriteResult;
    expect(clientBulkWriteResultDocument(result)).toMatchObject({ insertedCount: 1, insertResults: { "0": { insertedId: 1 } } });
  });
});

describe("definitionFor", () => {
  test("accepts session with any operation, refuses unknown operations and arguments", () => {
    expect(definitionFor(collectionOperations, "insertOne", "collection", { document: {}, session: "s" })).toBeDefined();
    expect(() => definitionFor(collectionOperations, "insertOne", "collection", { documentz: {} })).toThrow(
      'argument "documentz" of insertOne is not supported by this runner',
    );
    expect(() => definitionFor(collectionOperations, "toString", "collection", {})).toThrow('operation "toString" on a collection');
  });
});
