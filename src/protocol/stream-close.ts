import * as v from "valibot";

/**
 * SSE only: the last frame of an event stream the server ends, with the code and reason a
 * WebSocket would have been closed with (4001 token expired, 1013 too slow, 1001 shutting
 * down); the same close-code table says whether to reconnect.
 */
export const StreamCloseFrameSchema = v.pipe(
  v.object({ type: v.literal("close"), code: v.number(), reason: v.string() }),
  v.title("StreamCloseFrame"),
);
export type StreamCloseFrame = v.InferOutput<typeof StreamCloseFrameSchema>;
