import type { CommandFailedEvent, CommandStartedEvent, CommandSucceededEvent, MongoClient, ObjectId } from "mongodb";
import { describe as show, isDocument, type Document } from "./bson-values";
import { match, type MatchEntities } from "./match";
import type { ExpectedEventsForClient } from "./load-spec-files";

export type CommandEventType = "commandStartedEvent" | "commandSucceededEvent" | "commandFailedEvent";

/** One observed command monitoring event, reduced to what tests can assert. */
export interface ObservedCommandEvent {
  type: CommandEventType;
  commandName: string;
  databaseName: string;
  command?: Document;
  reply?: Document;
  serviceId?: ObjectId;
  serverConnectionId: bigint | null;
}

/** Commands whose events are never observed (Command Logging and Monitoring, "Security"). */
const SENSITIVE_COMMANDS = new Set([
  "authenticate",
  "saslstart",
  "saslcontinue",
  "getnonce",
  "createuser",
  "updateuser",
  "copydbgetnonce",
  "copydbsaslstart",
  "copydb",
]);

function isSensitive(commandName: string, command: Document): boolean {
  const name = commandName.toLowerCase();
  if (SENSITIVE_COMMANDS.has(name)) return true;
  // hello/isMaster are sensitive when they carry speculativeAuthenticate; the driver then redacts them to {}.
  if (name === "hello" || name === "ismaster") {
    return command.speculativeAuthenticate !== undefined || Object.keys(command).length === 0;
  }
  return false;
}

export interface CommandEventOptions {
  observeEvents: string[];
  ignoreCommandMonitoringEvents: string[];
}

/** Records a client's command events while a test's operations run. */
export class CommandEventLog {
  readonly events: ObservedCommandEvent[] = [];
  private recording = true;
  private readonly ignored: Set<string>;
  private readonly observed: Set<string>;
  /** Requests whose events are dropped: sensitive commands and the runner's own fail points. */
  private readonly skippedRequests = new Set<number>();
  private pendingFailPointCommands = 0;

  constructor(client: MongoClient, options: CommandEventOptions) {
    this.observed = new Set(options.observeEvents);
    this.ignored = new Set(options.ignoreCommandMonitoringEvents.map((name) => name.toLowerCase()));
    client.on("commandStarted", (event: CommandStartedEvent) => {
      // Decided by the started event; the reply events follow by requestId.
      if (isSensitive(event.commandName, event.command) || this.isRunnerFailPoint(event.commandName)) {
        this.skippedRequests.add(event.requestId);
      }
      this.record(event.requestId, "commandStartedEvent", event, { command: event.command });
    });
    client.on("commandSucceeded", (event: CommandSucceededEvent) =>
      this.record(event.requestId, "commandSucceededEvent", event, { reply: event.reply as Document }),
    );
    client.on("commandFailed", (event: CommandFailedEvent) => this.record(event.requestId, "commandFailedEvent", event, {}));
  }

  stop(): void {
    this.recording = false;
  }

  /** The next configureFailPoint on this client comes from a failPoint operation: not observed. */
  ignoreNextFailPointCommand(): void {
    this.pendingFailPointCommands++;
  }

  private isRunnerFailPoint(commandName: string): boolean {
    if (commandName !== "configureFailPoint" || this.pendingFailPointCommands === 0) return false;
    this.pendingFailPointCommands--;
    return true;
  }

  private record(
    requestId: number,
    type: CommandEventType,
    event: { commandName: string; databaseName: string; serviceId?: ObjectId; serverConnectionId: bigint | null },
    payload: Partial<ObservedCommandEvent>,
  ): void {
    if (!this.recording || !this.observed.has(type)) return;
    if (this.ignored.has(event.commandName.toLowerCase()) || this.skippedRequests.has(requestId)) return;
    if (SENSITIVE_COMMANDS.has(event.commandName.toLowerCase())) return;
    const { commandName, databaseName, serviceId, serverConnectionId } = event;
    this.events.push({ type, commandName, databaseName, serviceId, serverConnectionId, ...payload });
  }
}

/** Asserts one client's observed events against `expectEvents`; returns a failure message or null. */
export function checkExpectedEvents(
  expected: ExpectedEventsForClient,
  observed: readonly ObservedCommandEvent[],
  entities: MatchEntities,
): string | null {
  const eventType = expected.eventType ?? "command";
  if (eventType !== "command") return `expectEvents eventType "${eventType}" is not supported by this runner`;
  const label = `expectEvents[${expected.client}]`;
  if (observed.length < expected.events.length || (!expected.ignoreExtraEvents && observed.length > expected.events.length)) {
    return `${label}: expected ${expected.events.length} event(s)${expected.ignoreExtraEvents ? " or more" : ""}, observed ${observed.length}: ${summarize(observed)}`;
  }
  for (const [index, expectedEvent] of expected.events.entries()) {
    const actual = observed[index];
    if (!actual) return `${label}: event #${index} missing`;
    const problem = checkEvent(expectedEvent, actual, entities);
    if (problem) return `${label} event #${index}: ${problem}\n    observed: ${summarize(observed)}`;
  }
  return null;
}

function checkEvent(expected: Document, actual: ObservedCommandEvent, entities: MatchEntities): string | null {
  const [type, ...more] = Object.keys(expected);
  if (!type || more.length > 0) return `expected event must have exactly one key, got ${show(expected)}`;
  if (type !== actual.type) return `expected ${type}, got ${actual.type} (${actual.commandName})`;
  const assertions = expected[type];
  if (!isDocument(assertions)) return `${type} must be a document`;
  for (const [field, value] of Object.entries(assertions)) {
    if (field === "commandName" || field === "databaseName") {
      if (actual[field] !== value) return `${type}.${field}: expected ${show(value)}, got ${show(actual[field])}`;
    } else if (field === "command" || field === "reply") {
      const mismatch = match(value, actual[field], { root: true, entities });
      if (mismatch) return `${type} (${actual.commandName}) ${field}${mismatch.path.slice(1)}: ${mismatch.message}`;
    } else if (field === "hasServiceId") {
      // Set means a non-zero ObjectId.
      const has = actual.serviceId !== undefined && !/^0+$/.test(actual.serviceId.toHexString());
      if (has !== value) return `${type}.hasServiceId: expected ${String(value)}, serviceId is ${show(actual.serviceId)}`;
    } else if (field === "hasServerConnectionId") {
      const has = actual.serverConnectionId !== null && actual.serverConnectionId > 0n;
      if (has !== value) return `${type}.hasServerConnectionId: expected ${String(value)}, got ${String(actual.serverConnectionId)}`;
    } else {
      return `${type}.${field} assertions are not supported by this runner`;
    }
  }
  return null;
}

function summarize(events: readonly ObservedCommandEvent[]): string {
  return `[${events.map((event) => `${event.type.replace("Event", "")}:${event.commandName}`).join(", ")}]`;
}
