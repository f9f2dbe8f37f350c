import { MongoClient, type MongoClientOptions } from "mongodb";
import { isDocument, type Document } from "./bson-values";
import { withDeadline } from "./deadline";
import { hostCount, withSingleHost, withUriOptions } from "./connection-string";
import { ClientEventLog } from "./events";
import { LogMessageCapture } from "./log-messages";
import type { ServerInfo } from "./run-on-requirements";
import { NotSupportedByRunner } from "./failures";

export interface ClientEntity {
  kind: "client";
  client: MongoClient;
  /** Every client has one: it counts checked-out connections; it records only observeEvents. */
  events: ClientEventLog;
  observesEvents: boolean;
  /** Set when the client has observeLogMessages. */
  logs?: LogMessageCapture;
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
  "observeLogMessages",
]);

/** A client entity: the suite's URI with its uriOptions, command monitoring on, and its event log; not yet connected. */
export function createClient(spec: Document, env: EntityEnvironment): ClientEntity {
  for (const key of Object.keys(spec)) {
    if (!CLIENT_FIELDS.has(key)) throw new NotSupportedByRunner(`client option "${key}"`);
  }
  let uri = clientUri(spec.useMultipleMongoses, env);
  if (spec.uriOptions !== undefined) {
    if (!isDocument(spec.uriOptions)) throw new Error("uriOptions must be a document");
    uri = withUriOptions(uri, spec.uriOptions);
  }
  // Connected at creation like other drivers' clients (SDAM events start here), but without the
  // Node driver's extra ping, whose connection check-out would show in CMAP event assertions.
  const options: MongoClientOptions & { __skipPingOnConnect: boolean } = { monitorCommands: true, __skipPingOnConnect: true };
  if (isDocument(spec.serverApi)) options.serverApi = spec.serverApi as unknown as MongoClientOptions["serverApi"];
  const logs = spec.observeLogMessages === undefined ? undefined : new LogMessageCapture(spec.observeLogMessages);
  const client = new MongoClient(uri, { ...options, ...logs?.clientOptions });
  const observeEvents = (spec.observeEvents as string[] | undefined) ?? [];
  const events = new ClientEventLog(client, {
    observeEvents,
    ignoreCommandMonitoringEvents: (spec.ignoreCommandMonitoringEvents as string[] | undefined) ?? [],
    observeSensitiveCommands: spec.observeSensitiveCommands === true,
  });
  return { kind: "client", client, events, observesEvents: observeEvents.length > 0, ...(logs ? { logs } : {}) };
}

/** useMultipleMongoses only matters on sharded clusters: true needs several mongos hosts, false gets one. */
function clientUri(useMultipleMongoses: unknown, env: EntityEnvironment): string {
  if (useMultipleMongoses === undefined || env.server.topology !== "sharded") return env.uri;
  if (useMultipleMongoses === true && hostCount(env.uri) < 2) {
    throw new Error("useMultipleMongoses: true needs a URI with several mongos hosts");
  }
  return useMultipleMongoses === false ? withSingleHost(env.uri) : env.uri;
}

/** How long creating a client waits for its first server selection. */
const CONNECT_WAIT_MS = 2_000;

/**
 * Starts monitoring the deployment. A failure, or a selection that waits (a readPreference no
 * member satisfies), is left to the test's operations, where it is reported as their error.
 */
export async function connectClient({ client }: ClientEntity): Promise<void> {
  await withDeadline(
    client.connect().catch(() => undefined),
    CONNECT_WAIT_MS,
  );
}
