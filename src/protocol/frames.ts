import * as v from "valibot";
import { PostViewSchema } from "./post-view.ts";

/**
 * Where a client stands in the feed: opaque, the same on every instance of the server.
 * Send the last one seen as `since` to continue exactly after it.
 */
export const PositionSchema = v.pipe(v.string(), v.title("Position"));
export type Position = v.InferOutput<typeof PositionSchema>;

/** Why a client must reload (`GET /posts`) instead of getting a replay. */
export const ResyncReasonSchema = v.picklist([
  "position-expired", // `since` is older than the history this server keeps
  "position-unknown", // `since` is not a position of this feed
  "history-lost", // MongoDB could not resume the change stream; events may be missing
  "collection-invalidated", // the posts collection was dropped or renamed
]);
export type ResyncReason = v.InferOutput<typeof ResyncReasonSchema>;

const postFrame = <T extends string>(type: T) => v.object({ type: v.literal(type), position: PositionSchema, post: PostViewSchema });
const idFrame = <T extends string>(type: T) => v.object({ type: v.literal(type), position: PositionSchema, id: v.string() });

/** A post was created. */
export const InsertFrameSchema = postFrame("insert");
/** A post was edited: `post` is the post as it was right after this change. */
export const UpdateFrameSchema = postFrame("update");
/** A post was deleted. */
export const DeleteFrameSchema = idFrame("delete");
/** (Filtered connections, and shape changes) a change made a post match: put it in the view. */
export const EnterFrameSchema = postFrame("enter");
/** (Filtered connections, and shape changes) a change made a post stop matching: take it out. */
export const LeaveFrameSchema = idFrame("leave");
/** The server cannot give this client a complete replay: reload with GET /posts. */
export const ResyncFrameSchema = v.object({ type: v.literal("resync"), reason: ResyncReasonSchema });
/** The answer to a client's `auth` frame: the socket now stays open until `expiresAt`. */
export const AuthFrameSchema = v.object({ type: v.literal("auth"), expiresAt: v.pipe(v.string(), v.isoTimestamp()) });

/** Every frame the server sends: one JSON text message each, tagged by `type`. */
export const FeedFrameSchema = v.pipe(
  v.variant("type", [
    InsertFrameSchema,
    UpdateFrameSchema,
    DeleteFrameSchema,
    EnterFrameSchema,
    LeaveFrameSchema,
    ResyncFrameSchema,
    AuthFrameSchema,
  ]),
  v.title("FeedFrame"),
);
export type FeedFrame = v.InferOutput<typeof FeedFrameSchema>;
export type FeedFrameType = FeedFrame["type"];

/**
 * The one frame a client sends: a fresh token before the current one expires (same `sub`,
 * a later `exp`). Anything else a client sends is ignored.
 */
export const ClientAuthFrameSchema = v.pipe(v.object({ type: v.literal("auth"), token: v.string() }), v.title("ClientAuthFrame"));
export type ClientAuthFrame = v.InferOutput<typeof ClientAuthFrameSchema>;
