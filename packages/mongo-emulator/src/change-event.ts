/** Turns an oplog entry into the change event document a 7.0 server sends. */
import type { Document } from "bson";
import { CommandError } from "./errors.ts";
import type { OplogEntry } from "./oplog.ts";
import { encodeResumeToken } from "./resume-token.ts";
import type { Store } from "./store.ts";
import { keyOf } from "./values.ts";

export type FullDocumentMode = "default" | "updateLookup" | "whenAvailable" | "required";
export type BeforeChangeMode = "off" | "whenAvailable" | "required";

export interface EventOptions {
  fullDocument: FullDocumentMode;
  fullDocumentBeforeChange: BeforeChangeMode;
  showExpandedEvents: boolean;
}

/** DDL events shown only with showExpandedEvents. */
const EXPANDED_ONLY = new Set(["create", "createIndexes", "dropIndexes", "modify"]);

/** Whether this stream shows events of this kind at all. */
export function isVisible(entry: OplogEntry, options: EventOptions): boolean {
  return options.showExpandedEvents || !EXPANDED_ONLY.has(entry.op);
}

/** Builds the event for an entry (the caller has already checked the namespace). */
export function buildEvent(entry: OplogEntry, options: EventOptions, store: Store): Document {
  const event: Document = {
    _id: { _data: entry.token },
    operationType: entry.op,
    clusterTime: entry.clusterTime,
    wallTime: entry.wallTime,
  };
  if (options.showExpandedEvents && entry.uuid) event.collectionUUID = entry.uuid;
  switch (entry.op) {
    case "insert":
      event.fullDocument = entry.fullDocument;
      event.ns = { db: entry.db, coll: entry.coll };
      event.documentKey = entry.documentKey;
      return event;
    case "replace":
      event.fullDocument = entry.fullDocument;
      event.ns = { db: entry.db, coll: entry.coll };
      event.documentKey = entry.documentKey;
      addBeforeChange(event, entry, options);
      return event;
    case "update":
      event.ns = { db: entry.db, coll: entry.coll };
      event.documentKey = entry.documentKey;
      event.updateDescription = describe(entry, options);
      addPostImage(event, entry, options, store);
      addBeforeChange(event, entry, options);
      return event;
    case "delete":
      event.ns = { db: entry.db, coll: entry.coll };
      event.documentKey = entry.documentKey;
      addBeforeChange(event, entry, options);
      return event;
    case "dropDatabase":
      event.ns = { db: entry.db };
      return event;
    case "rename":
      event.ns = { db: entry.db, coll: entry.coll };
      event.to = entry.to;
      if (options.showExpandedEvents) event.operationDescription = entry.operationDescription;
      return event;
    case "drop":
      event.ns = { db: entry.db, coll: entry.coll };
      return event;
    default:
      event.ns = { db: entry.db, coll: entry.coll };
      if (entry.operationDescription) event.operationDescription = entry.operationDescription;
      if (entry.stateBeforeChange) event.stateBeforeChange = entry.stateBeforeChange;
      return event;
  }
}

/** The invalidate event that follows a drop/rename/dropDatabase of what the stream watches. */
export function invalidateEvent(entry: OplogEntry): Document {
  return {
    _id: { _data: encodeResumeToken(entry.time, "invalidate") },
    operationType: "invalidate",
    clusterTime: entry.clusterTime,
    wallTime: entry.wallTime,
  };
}

function describe(entry: OplogEntry, options: EventOptions): Document {
  const desc = entry.updateDescription ?? { updatedFields: {}, removedFields: [], truncatedArrays: [] };
  const out: Document = {
    updatedFields: desc.updatedFields,
    removedFields: desc.removedFields,
    truncatedArrays: desc.truncatedArrays,
  };
  if (options.showExpandedEvents) out.disambiguatedPaths = desc.disambiguatedPaths ?? {};
  return out;
}

function addPostImage(event: Document, entry: OplogEntry, options: EventOptions, store: Store): void {
  switch (options.fullDocument) {
    case "default":
      return;
    case "updateLookup": {
      const coll = entry.coll === undefined ? undefined : store.get(entry.db, entry.coll);
      const id = entry.documentKey?._id;
      event.fullDocument = (coll && entry.uuid && coll.uuid.equals(entry.uuid) && coll.docs.get(keyOf(id))) || null;
      return;
    }
    case "whenAvailable":
      event.fullDocument = entry.postImage ?? null;
      return;
    case "required":
      if (!entry.postImage) {
        throw new CommandError(
          47,
          `Change stream was configured to require a post-image for all update, delete and replace events, but the post-image was not found for event: ${entry.token}`,
        );
      }
      event.fullDocument = entry.postImage;
  }
}

function addBeforeChange(event: Document, entry: OplogEntry, options: EventOptions): void {
  switch (options.fullDocumentBeforeChange) {
    case "off":
      return;
    case "whenAvailable":
      event.fullDocumentBeforeChange = entry.preImage ?? null;
      return;
    case "required":
      if (!entry.preImage) {
        throw new CommandError(
          47,
          `Change stream was configured to require a pre-image for all update, delete and replace events, but the pre-image was not found for event: ${entry.token}`,
        );
      }
      event.fullDocumentBeforeChange = entry.preImage;
  }
}
