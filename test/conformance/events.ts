import type { MongoClient, ObjectId } from "mongodb";
import type { Document } from "./bson-values";
import { NotSupportedByRunner } from "./failures";

export type EventCategory = "command" | "cmap" | "sdam";

/** Every event type the format names, with the driver's event name and its expectEvents eventType. */
const EVENT_TYPES: Record<string, [driverEvent: string, category: EventCategory]> = {
  commandStartedEvent: ["commandStarted", "command"],
  commandSucceededEvent: ["commandSucceeded", "command"],
  commandFailedEvent: ["commandFailed", "command"],
  poolCreatedEvent: ["connectionPoolCreated", "cmap"],
  poolReadyEvent: ["connectionPoolReady", "cmap"],
  poolClearedEvent: ["connectionPoolCleared", "cmap"],
  poolClosedEvent: ["connectionPoolClosed", "cmap"],
  connectionCreatedEvent: ["connectionCreated", "cmap"],
  connectionReadyEvent: ["connectionReady", "cmap"],
  connectionClosedEvent: ["connectionClosed", "cmap"],
  connectionCheckOutStartedEvent: ["connectionCheckOutStarted", "cmap"],
  connectionCheckOutFailedEvent: ["connectionCheckOutFailed", "cmap"],
  connectionCheckedOutEvent: ["connectionCheckedOut", "cmap"],
  connectionCheckedInEvent: ["connectionCheckedIn", "cmap"],
  serverDescriptionChangedEvent: ["serverDescriptionChanged", "sdam"],
  serverHeartbeatStartedEvent: ["serverHeartbeatStarted", "sdam"],
  serverHeartbeatSucceededEvent: ["serverHeartbeatSucceeded", "sdam"],
  serverHeartbeatFailedEvent: ["serverHeartbeatFailed", "sdam"],
  topologyDescriptionChangedEvent: ["topologyDescriptionChanged", "sdam"],
  topologyOpeningEvent: ["topologyOpening", "sdam"],
  topologyClosedEvent: ["topologyClosed", "sdam"],
};

/** The expectEvents eventType an event type belongs to, or undefined for an unknown type. */
export function categoryOf(type: string): EventCategory | undefined {
  return EVENT_TYPES[type]?.[1];
}

/** One observed event, reduced to what tests can assert. */
export interface ObservedEvent {
  type: string;
  commandName?: string;
  databaseName?: string;
  command?: Document;
  reply?: Document;
  serviceId?: ObjectId;
  serverConnectionId?: bigint | null;
  reason?: string;
  interruptInUseConnections?: boolean;
  awaited?: boolean;
  previousDescription?: { type?: string };
  newDescription?: { type?: string };
}

/** A command monitoring event (the shape the command assertions read). */
export type ObservedCommandEvent = ObservedEvent & { commandName: string; databaseName: string };

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

export interface ClientEventOptions {
  observeEvents: string[];
  ignoreCommandMonitoringEvents: string[];
  observeSensitiveCommands?: boolean;
}

interface Waiter {
  matches(event: ObservedEvent): boolean;
  count: number;
  seen: number;
  resolve(): void;
}

/** Records the events a client entity observes, and counts its checked-out connections. */
export class ClientEventLog {
  readonly events: ObservedEvent[] = [];
  /** Connections checked out right now (assertNumberConnectionsCheckedOut). */
  checkedOut = 0;
  private recording = true;
  private readonly ignored: Set<string>;
  private readonly observed: Set<string>;
  private readonly observeSensitive: boolean;
  /** Requests whose events are dropped: sensitive commands and the runner's own fail points. */
  private readonly skippedRequests = new Set<number>();
  private pendingFailPointCommands = 0;
  private waiters: Waiter[] = [];

  constructor(client: MongoClient, options: ClientEventOptions) {
    const unknown = options.observeEvents.filter((type) => !EVENT_TYPES[type]);
    if (unknown.length > 0) throw new NotSupportedByRunner(`observeEvents ${unknown.join(", ")}`);
    this.observed = new Set(options.observeEvents);
    this.ignored = new Set(options.ignoreCommandMonitoringEvents.map((name) => name.toLowerCase()));
    this.observeSensitive = options.observeSensitiveCommands ?? false;
    const emitter = client as unknown as { on(name: string, listener: (event: Document) => void): void };
    emitter.on("connectionCheckedOut", () => this.checkedOut++);
    emitter.on("connectionCheckedIn", () => this.checkedOut--);
    for (const type of this.observed) {
      const [driverEvent] = EVENT_TYPES[type] as [string, EventCategory];
      emitter.on(driverEvent, (event) => this.onDriverEvent(type, event));
    }
  }

  stop(): void {
    this.recording = false;
  }

  /** The next configureFailPoint on this client comes from a failPoint operation: not observed. */
  ignoreNextFailPointCommand(): void {
    this.pendingFailPointCommands++;
  }

  /** Resolves once `count` observed events (including earlier ones) satisfy `matches`. */
  waitFor(matches: (event: ObservedEvent) => boolean, count: number): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    const waiter: Waiter = { matches, count, seen: this.events.filter(matches).length, resolve };
    if (waiter.seen >= count) resolve();
    else this.waiters.push(waiter);
    return promise;
  }

  private onDriverEvent(type: string, event: Document): void {
    if (categoryOf(type) === "command") this.onCommandEvent(type, event);
    else this.record(toObservedEvent(type, event));
  }

  private onCommandEvent(type: string, event: Document): void {
    const requestId = event.requestId as number;
    const commandName = String(event.commandName);
    if (type === "commandStartedEvent") {
      // Decided by the started event; the reply events follow by requestId.
      const sensitive = !this.observeSensitive && isSensitive(commandName, event.command as Document);
      if (sensitive || this.isRunnerFailPoint(commandName)) this.skippedRequests.add(requestId);
    }
    if (this.ignored.has(commandName.toLowerCase()) || this.skippedRequests.has(requestId)) return;
    if (!this.observeSensitive && SENSITIVE_COMMANDS.has(commandName.toLowerCase())) return;
    this.record({
      type,
      commandName,
      databaseName: String(event.databaseName),
      serviceId: event.serviceId as ObjectId | undefined,
      serverConnectionId: (event.serverConnectionId as bigint | null | undefined) ?? null,
      ...(type === "commandStartedEvent" ? { command: event.command as Document } : {}),
      ...(type === "commandSucceededEvent" ? { reply: event.reply as Document } : {}),
    });
  }

  private isRunnerFailPoint(commandName: string): boolean {
    if (commandName !== "configureFailPoint" || this.pendingFailPointCommands === 0) return false;
    this.pendingFailPointCommands--;
    return true;
  }

  private record(event: ObservedEvent): void {
    if (!this.recording) return;
    this.events.push(event);
    this.waiters = this.waiters.filter((waiter) => {
      if (waiter.matches(event)) waiter.seen++;
      if (waiter.seen < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  }
}

/** CMAP and SDAM events keep only the fields the format can assert. */
function toObservedEvent(type: string, event: Document): ObservedEvent {
  const observed: ObservedEvent = { type };
  if (event.serviceId !== undefined) observed.serviceId = event.serviceId as ObjectId;
  if (typeof event.reason === "string") observed.reason = event.reason;
  if (typeof event.interruptInUseConnections === "boolean") observed.interruptInUseConnections = event.interruptInUseConnections;
  if (typeof event.awaited === "boolean") observed.awaited = event.awaited;
  const typeOf = (description: unknown) => ({ type: (description as { type?: string } | undefined)?.type });
  if (event.previousDescription !== undefined) observed.previousDescription = typeOf(event.previousDescription);
  if (event.newDescription !== undefined) observed.newDescription = typeOf(event.newDescription);
  return observed;
}
