import { describe as show, isDocument, type Document } from "./bson-values";
import { categoryOf, type ObservedEvent } from "./events";
import type { ExpectedEventsForClient } from "./load-spec-files";
import { match, type MatchEntities } from "./match";
import { NOT_SUPPORTED } from "./failures";

/** Asserts one client's observed events against `expectEvents`; returns a failure message or null. */
export function checkExpectedEvents(
  expected: ExpectedEventsForClient,
  allObserved: readonly ObservedEvent[],
  entities: MatchEntities,
): string | null {
  const eventType = expected.eventType ?? "command";
  // Each eventType is asserted on its own: a client may observe command and CMAP events at once.
  const observed = allObserved.filter((event) => categoryOf(event.type) === eventType);
  const label = `expectEvents[${expected.client}]${eventType === "command" ? "" : ` (${eventType})`}`;
  if (observed.length < expected.events.length || (!expected.ignoreExtraEvents && observed.length > expected.events.length)) {
    return `${label}: expected ${expected.events.length} event(s)${expected.ignoreExtraEvents ? " or more" : ""}, observed ${observed.length}: ${summarize(observed)}`;
  }
  for (const [index, expectedEvent] of expected.events.entries()) {
    const actual = observed[index];
    if (!actual) return `${label}: event #${index} missing`;
    const problem = eventMismatch(expectedEvent, actual, entities);
    if (problem) return `${label} event #${index}: ${problem}\n    observed: ${summarize(observed)}`;
  }
  return null;
}

/** Why `actual` does not match one expectedEvent (`{ <type>: { assertions } }`), or null when it does. */
export function eventMismatch(expected: Document, actual: ObservedEvent, entities: MatchEntities): string | null {
  const [type, ...more] = Object.keys(expected);
  if (!type || more.length > 0) return `expected event must have exactly one key, got ${show(expected)}`;
  if (type !== actual.type) return `expected ${type}, got ${actual.type}${actual.commandName ? ` (${actual.commandName})` : ""}`;
  const assertions = expected[type];
  if (!isDocument(assertions)) return `${type} must be a document`;
  for (const [field, value] of Object.entries(assertions)) {
    const problem = fieldMismatch(type, field, value, actual, entities);
    if (problem) return problem;
  }
  return null;
}

function fieldMismatch(type: string, field: string, value: unknown, actual: ObservedEvent, entities: MatchEntities): string | null {
  const differs = (got: unknown) => `${type}.${field}: expected ${show(value)}, got ${show(got)}`;
  switch (field) {
    case "commandName":
    case "databaseName":
    case "reason":
    case "interruptInUseConnections":
    case "awaited":
      return actual[field] === value ? null : differs(actual[field]);
    case "command":
    case "reply": {
      const mismatch = match(value, actual[field], { root: true, entities });
      return mismatch ? `${type} (${actual.commandName}) ${field}${mismatch.path.slice(1)}: ${mismatch.message}` : null;
    }
    case "previousDescription":
    case "newDescription": {
      // Only the description's type can be asserted; other fields are ignored.
      if (!isDocument(value)) return `${type}.${field} must be a document`;
      return value.type === undefined || value.type === actual[field]?.type ? null : differs(actual[field]?.type);
    }
    case "hasServiceId": {
      // Set means a non-zero ObjectId.
      const has = actual.serviceId !== undefined && !/^0+$/.test(actual.serviceId.toHexString());
      return has === value ? null : `${type}.hasServiceId: expected ${String(value)}, serviceId is ${show(actual.serviceId)}`;
    }
    case "hasServerConnectionId": {
      const id = actual.serverConnectionId;
      const has = id !== undefined && id !== null && id > 0n;
      return has === value ? null : `${type}.hasServerConnectionId: expected ${String(value)}, got ${String(id)}`;
    }
    default:
      return `${type}.${field} assertions ${NOT_SUPPORTED}`;
  }
}

export function summarize(events: readonly ObservedEvent[]): string {
  const one = (event: ObservedEvent) => `${event.type.replace("Event", "")}${event.commandName ? `:${event.commandName}` : ""}`;
  return `[${events.map(one).join(", ")}]`;
}
