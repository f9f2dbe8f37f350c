import type { MongoClientOptions } from "mongodb";
import { describe as show, isDocument, type Document } from "./bson-values";
import { NotSupportedByRunner } from "./failures";
import { match, type MatchEntities } from "./match";

/** One structured log message of the driver: its severity, component and the rest as data. */
export interface ObservedLogMessage {
  level: string;
  component: string;
  data: Document;
}

export interface ExpectedLogMessagesForClient {
  client: string;
  messages: Document[];
  ignoreMessages?: Document[];
  ignoreExtraMessages?: boolean;
}

const COMPONENTS = new Set(["command", "topology", "serverSelection", "connection", "client"]);

/** Collects a client's log messages (observeLogMessages) through the driver's structured logger. */
export class LogMessageCapture {
  readonly messages: ObservedLogMessage[] = [];
  private recording = true;

  /** The client options that route the observed components, at their minimum levels, here. */
  readonly clientOptions: Pick<MongoClientOptions, "mongodbLogPath" | "mongodbLogComponentSeverities">;

  constructor(observeLogMessages: unknown) {
    if (!isDocument(observeLogMessages)) throw new Error("observeLogMessages must be a document");
    for (const component of Object.keys(observeLogMessages)) {
      if (!COMPONENTS.has(component)) throw new NotSupportedByRunner(`log component "${component}"`);
    }
    this.clientOptions = {
      mongodbLogComponentSeverities: observeLogMessages as MongoClientOptions["mongodbLogComponentSeverities"],
      mongodbLogPath: {
        write: (log) => {
          if (!this.recording) return;
          const { t: _time, s: level, c: component, ...data } = log;
          this.messages.push({ level: String(level), component: String(component), data });
        },
      },
    };
  }

  stop(): void {
    this.recording = false;
  }
}

/** Why a message differs from an expectedLogMessage, or null when it matches. */
export function logMessageMismatch(expected: Document, actual: ObservedLogMessage, entities: MatchEntities): string | null {
  if (expected.level !== actual.level) return `level: expected ${show(expected.level)}, got ${actual.level}`;
  if (expected.component !== actual.component) return `component: expected ${show(expected.component)}, got ${actual.component}`;
  if (typeof expected.failureIsRedacted === "boolean") {
    const failure = actual.data.failure;
    if (failure === undefined) return "expected a failure in the message data, it is unset";
    // The Node driver writes a redacted failure as "(redacted)" (its message otherwise).
    if ((failure === "(redacted)") !== expected.failureIsRedacted) {
      return `failure: expected ${expected.failureIsRedacted ? "redacted" : "not redacted"}, got ${show(failure)}`;
    }
  }
  const mismatch = match(expected.data, actual.data, { root: true, entities });
  return mismatch ? `data${mismatch.path.slice(1)}: ${mismatch.message}` : null;
}

/** Asserts one client's log messages against expectLogMessages; returns a failure message or null. */
export function checkExpectedLogMessages(
  expected: ExpectedLogMessagesForClient,
  observed: readonly ObservedLogMessage[],
  entities: MatchEntities,
): string | null {
  const ignored = expected.ignoreMessages ?? [];
  const messages = observed.filter((message) => !ignored.some((ignore) => logMessageMismatch(ignore, message, entities) === null));
  const label = `expectLogMessages[${expected.client}]`;
  const summary = () => `[${messages.map((message) => `${message.component}:${String(message.data.message)}`).join(", ")}]`;
  const wanted = expected.messages.length;
  if (messages.length < wanted || (!expected.ignoreExtraMessages && messages.length > wanted)) {
    return `${label}: expected ${wanted} message(s)${expected.ignoreExtraMessages ? " or more" : ""}, observed ${messages.length}: ${summary()}`;
  }
  for (const [index, message] of expected.messages.entries()) {
    const problem = logMessageMismatch(message, messages[index] as ObservedLogMessage, entities);
    if (problem) return `${label} message #${index} ${problem}\n    observed: ${summary()}`;
  }
  return null;
}
