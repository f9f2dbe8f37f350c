/** Runs one command: fail point, handler, error mapping, and the `$clusterTime`/`operationTime` gossip. */
import type { Document } from "bson";
import { CommandError, RESUMABLE_CHANGE_STREAM_CODES, RETRYABLE_WRITE_CODES } from "./errors.ts";
import type { FailCommandData } from "./fail-points.ts";
import { CLOSE_CONNECTION, type CommandContext, type CommandHandler } from "./commands/context.ts";
import { commandHandlers } from "./commands/registry.ts";
import { checkMemberRole } from "./member-role.ts";
import { refreshLocalDatabase } from "./local-database.ts";
import { awaitReadConcern } from "./causal-reads.ts";
import { awaitWriteConcern } from "./write-concern.ts";

const RETRYABLE_WRITE_COMMANDS = new Set(["insert", "update", "delete", "findAndModify"]);

/** Runs a command; the reply is synchronous whenever the command does not wait. */
export function runCommand(ctx: CommandContext): Document | Promise<Document> {
  const name = Object.keys(ctx.command)[0] ?? "";
  const failure = ctx.state.failPoints.check(name, ctx.connection.appName);
  if (failure) return applyFailPoint(ctx, name, failure);
  return execute(ctx, name);
}

function execute(ctx: CommandContext, name: string): Document | Promise<Document> {
  const handler: CommandHandler | undefined = commandHandlers[name];
  if (!handler) {
    return finish(ctx, new CommandError(59, `no such command: '${name}'`).toReply());
  }
  try {
    checkMemberRole(ctx, name);
    refreshLocalDatabase(ctx.state, ctx.db);
  } catch (error) {
    return finish(ctx, errorReply(error, ctx, name));
  }
  const readable = awaitReadConcern(ctx, name);
  if (readable) {
    return readable.then(
      () => runHandler(ctx, name, handler),
      (error: unknown) => finish(ctx, errorReply(error, ctx, name)),
    );
  }
  return runHandler(ctx, name, handler);
}

function runHandler(ctx: CommandContext, name: string, handler: CommandHandler): Document | Promise<Document> {
  const retryKey = ctx.state.retryableWrites.keyOf(name, ctx.command);
  if (retryKey !== undefined) {
    const { oplog } = ctx.state;
    const replayed = ctx.state.retryableWrites.replay(retryKey, ctx.state.replica && ((time) => oplog.contains(time)));
    if (replayed) return finish(ctx, replayed);
  }
  try {
    const result = handler(ctx);
    if (retryKey !== undefined && !(result instanceof Promise))
      ctx.state.retryableWrites.remember(retryKey, result, ctx.state.oplog.lastTime);
    if (result instanceof Promise) {
      return result.then(
        (reply) => finishWrite(ctx, name, reply),
        (error: unknown) => finish(ctx, errorReply(error, ctx, name)),
      );
    }
    return finishWrite(ctx, name, result);
  } catch (error) {
    return finish(ctx, errorReply(error, ctx, name));
  }
}

/** With several members, a write's reply waits for its write concern. */
function finishWrite(ctx: CommandContext, name: string, reply: Document): Document | Promise<Document> {
  if (!ctx.state.replica) return finish(ctx, reply);
  const acknowledged = awaitWriteConcern(ctx, name, reply);
  return acknowledged instanceof Promise ? acknowledged.then((done) => finish(ctx, done)) : finish(ctx, acknowledged);
}

function finish(ctx: CommandContext, reply: Document): Document {
  if (reply === CLOSE_CONNECTION) return reply;
  return Object.assign(reply, ctx.state.gossip());
}

function errorReply(error: unknown, ctx: CommandContext, name: string): Document {
  if (error instanceof CommandError) {
    const labels = error.labels ?? defaultLabels(ctx, name, error.code);
    return new CommandError(error.code, error.message, labels, error.extra).toReply();
  }
  // Anything else is a bad request the query engine rejected (e.g. an unknown operator).
  const message = error instanceof Error ? error.message : String(error);
  return new CommandError(2, message).toReply();
}

/** Labels a real 7.0 server adds by itself when the fail point gives none. */
function defaultLabels(ctx: CommandContext, name: string, code: number): string[] | undefined {
  if (name === "getMore" && RESUMABLE_CHANGE_STREAM_CODES.has(code)) {
    const isChangeStream = ctx.state.cursors.isChangeStream(ctx.command.getMore);
    if (isChangeStream) return ["ResumableChangeStreamError"];
  }
  if (RETRYABLE_WRITE_COMMANDS.has(name) && ctx.command.txnNumber !== undefined && RETRYABLE_WRITE_CODES.has(code)) {
    return ["RetryableWriteError"];
  }
  if ((name === "commitTransaction" || name === "abortTransaction") && RETRYABLE_WRITE_CODES.has(code)) {
    return ["RetryableWriteError"];
  }
  return undefined;
}

async function applyFailPoint(ctx: CommandContext, name: string, data: FailCommandData): Promise<Document> {
  if (data.closeConnection) {
    ctx.connection.close();
    return CLOSE_CONNECTION;
  }
  if (data.blockConnection && data.blockTimeMS) await ctx.state.sleep(data.blockTimeMS, ctx.connection.signal).promise;
  if (data.errorCode !== undefined) {
    const message = data.errmsg ?? "Failing command via 'failCommand' failpoint";
    // failCommand fires before the cursor is checked out, so a getMore gets no
    // ResumableChangeStreamError unless the fail point names it; writes still get RetryableWriteError.
    const labels = data.errorLabels ?? (name === "getMore" ? [] : undefined);
    return finish(ctx, errorReply(new CommandError(data.errorCode, message, labels), ctx, name));
  }
  const reply = await execute(ctx, name);
  if (data.writeConcernError && reply !== CLOSE_CONNECTION) {
    const { errorLabels, ...writeConcernError } = data.writeConcernError;
    reply.writeConcernError = writeConcernError;
    const labels = (errorLabels as string[] | undefined) ?? defaultLabels(ctx, name, Number(writeConcernError.code));
    if (labels && labels.length > 0) reply.errorLabels = labels;
  }
  return reply;
}
