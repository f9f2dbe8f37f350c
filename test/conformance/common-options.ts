import { ReadPreference, type ReadPreferenceMode, type TagSet } from "mongodb";
import { isDocument, type Document } from "./bson-values";
import { NotSupportedByRunner } from "./failures";

/** Converts the format's readPreference object ({ mode, tagSets, maxStalenessSeconds, hedge }). */
export function toReadPreference(value: unknown): ReadPreference {
  if (!isDocument(value) || typeof value.mode !== "string") throw new Error(`invalid readPreference ${String(value)}`);
  const mode = (value.mode.charAt(0).toLowerCase() + value.mode.slice(1)) as ReadPreferenceMode;
  const options: { maxStalenessSeconds?: number; hedge?: Document } = {};
  if (typeof value.maxStalenessSeconds === "number") options.maxStalenessSeconds = value.maxStalenessSeconds;
  if (isDocument(value.hedge)) options.hedge = value.hedge;
  return new ReadPreference(mode, value.tagSets as TagSet[] | undefined, options);
}

/**
 * Options documents whose readPreference must become a driver object; readConcern
 * ({ level }) and writeConcern ({ w, journal, wtimeoutMS }) already have driver shape.
 */
export function withDriverReadPreference(options: Document): Document {
  if (options.readPreference === undefined) return options;
  return { ...options, readPreference: toReadPreference(options.readPreference) };
}

const COLLECTION_OR_DATABASE_OPTIONS = new Set(["readConcern", "readPreference", "writeConcern"]);

/** collectionOrDatabaseOptions → driver options; unknown keys are a runner error. */
export function toCollectionOrDatabaseOptions(value: unknown): Document {
  if (value === undefined) return {};
  if (!isDocument(value)) throw new Error("collectionOptions/databaseOptions must be a document");
  for (const key of Object.keys(value)) {
    if (!COLLECTION_OR_DATABASE_OPTIONS.has(key)) throw new NotSupportedByRunner(`collection/database option "${key}"`);
  }
  return withDriverReadPreference(value);
}
