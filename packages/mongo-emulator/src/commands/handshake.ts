/** hello / isMaster (including the awaitable "streaming" hello of the driver's monitor), ping, buildInfo, get/setParameter. */
import { Long, type Document } from "bson";
import { toTimestamp } from "../cluster-clock.ts";
import { CommandError } from "../errors.ts";
import { memberHelloFields } from "../member-status.ts";
import type { CommandContext, CommandHandler } from "./context.ts";

const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
const MAX_MESSAGE_SIZE_BYTES = 48_000_000;

function helloReply(ctx: CommandContext, legacy: boolean): Document {
  const { state } = ctx;
  const opTime = toTimestamp(state.oplog.clock.current);
  const wallTime = new Date();
  const reply: Document = {
    topologyVersion: { processId: state.processId, counter: Long.fromNumber(state.topologyCounter) },
    hosts: [state.host],
    setName: "rs0",
    setVersion: 1,
    [legacy ? "ismaster" : "isWritablePrimary"]: true,
    secondary: false,
    primary: state.host,
    me: state.host,
    electionId: state.electionId,
    lastWrite: {
      opTime: { ts: opTime, t: Long.ONE },
      lastWriteDate: wallTime,
      majorityOpTime: { ts: opTime, t: Long.ONE },
      majorityWriteDate: wallTime,
    },
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
    maxWriteBatchSize: 100_000,
    localTime: wallTime,
    logicalSessionTimeoutMinutes: 30,
    connectionId: ctx.connection.id,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
    ok: 1,
  };
  if (state.replica) {
    delete reply.primary;
    delete reply.electionId;
    Object.assign(reply, memberHelloFields(state.replica, state, legacy));
  }
  if (ctx.command.helloOk === true) reply.helloOk = true;
  if (state.standalone) {
    for (const field of ["hosts", "setName", "setVersion", "secondary", "primary", "me", "electionId", "lastWrite"]) delete reply[field];
  }
  return reply;
}

function recordClientMetadata(ctx: CommandContext): void {
  const client = ctx.command.client as Document | undefined;
  const name = (client?.application as Document | undefined)?.name;
  if (typeof name === "string") ctx.connection.appName = name;
}

function makeHello(legacy: boolean): CommandHandler {
  return (ctx) => {
    recordClientMetadata(ctx);
    const { command, state } = ctx;
    const awaited = command.topologyVersion as Document | undefined;
    const maxAwaitTimeMS = Number(command.maxAwaitTimeMS ?? NaN);
    const sameTopology =
      awaited !== undefined &&
      String(awaited.processId) === state.processId.toHexString() &&
      Number(awaited.counter) === state.topologyCounter;
    if (!sameTopology || !Number.isFinite(maxAwaitTimeMS)) return helloReply(ctx, legacy);
    // Awaitable hello: answered when the wait ends, or at once when the topology changes.
    return state.awaitTopologyChange(maxAwaitTimeMS, ctx.connection.signal).then(() => helloReply(ctx, legacy));
  };
}

const buildInfo: CommandHandler = () => ({
  version: "7.0.14",
  gitVersion: "ce59cfc6a3c5e5c067dca0d30697edd68d4f5188",
  versionArray: [7, 0, 14, 0],
  bits: 64,
  debug: false,
  maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
  storageEngines: ["devnull", "wiredTiger"],
  javascriptEngine: "mozjs",
  modules: [],
  ok: 1,
});

/** getParameter: the feature compatibility version, and the TTL monitor's settings when asked for. */
const getParameter: CommandHandler = (ctx) => {
  const reply: Document = { featureCompatibilityVersion: { version: "7.0" } };
  const { ttlMonitor } = ctx.state;
  if (ctx.command.ttlMonitorSleepSecs !== undefined) reply.ttlMonitorSleepSecs = Math.max(1, Math.round(ttlMonitor.intervalMs / 1000));
  if (ctx.command.ttlMonitorEnabled !== undefined) reply.ttlMonitorEnabled = ttlMonitor.enabled;
  reply.ok = 1;
  return reply;
};

/** setParameter on admin: `ttlMonitorSleepSecs` (a positive integer, used at once) and `ttlMonitorEnabled`; others are accepted. */
const setParameter: CommandHandler = (ctx) => {
  if (ctx.db !== "admin") throw new CommandError(13, "setParameter may only be run against the admin database.");
  const { command, state } = ctx;
  if (command.ttlMonitorSleepSecs !== undefined) {
    const seconds = Number(command.ttlMonitorSleepSecs);
    if (!Number.isInteger(seconds) || seconds < 1) {
      throw new CommandError(
        2,
        `Invalid value for parameter ttlMonitorSleepSecs: ${String(command.ttlMonitorSleepSecs)} is not greater than or equal to 1`,
      );
    }
    const was = Math.max(1, Math.round(state.ttlMonitor.intervalMs / 1000));
    state.ttlMonitor.intervalMs = seconds * 1000;
    return { was, ok: 1 };
  }
  if (command.ttlMonitorEnabled !== undefined) {
    const was = state.ttlMonitor.enabled;
    state.ttlMonitor.enabled = command.ttlMonitorEnabled === true;
    return { was, ok: 1 };
  }
  return { was: null, ok: 1 };
};

export const handshakeCommands: Record<string, CommandHandler> = {
  hello: makeHello(false),
  isMaster: makeHello(true),
  ismaster: makeHello(true),
  ping: () => ({ ok: 1 }),
  buildInfo,
  buildinfo: buildInfo,
  getParameter,
  getCmdLineOpts: () => ({ argv: ["mongod", "--replSet", "rs0"], parsed: { replication: { replSet: "rs0" } }, ok: 1 }),
  hostInfo: () => ({ system: { hostname: "127.0.0.1", numCores: 1 }, os: { type: "Linux" }, extra: {}, ok: 1 }),
  serverStatus: (ctx) => ({ host: ctx.state.host, version: "7.0.14", process: "mongod", uptime: 1, ok: 1 }),
  endSessions: () => ({ ok: 1 }),
  killSessions: () => ({ ok: 1 }),
  killAllSessions: () => ({ ok: 1 }),
  refreshSessions: () => ({ ok: 1 }),
  startSession: () => ({ ok: 1 }),
  logout: () => ({ ok: 1 }),
  whatsmyuri: () => ({ you: "127.0.0.1:0", ok: 1 }),
  getLog: () => ({ totalLinesWritten: 0, log: [], ok: 1 }),
  setParameter,
};
