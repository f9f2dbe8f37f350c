// Defends: observeLogMessages captures the driver's structured log, and expectLogMessages matches it as the format says.
import { describe, expect, test } from "bun:test";
import type { MongoDBLogWritable } from "mongodb";
import { checkExpectedLogMessages, LogMessageCapture } from "./log-messages";
import type { MatchEntities } from "./match";

const noEntities: MatchEntities = { bsonEntity: () => undefined, sessionLsid: () => undefined };

function captured(): { capture: LogMessageCapture; write: MongoDBLogWritable["write"] } {
  const capture = new LogMessageCapture({ command: "debug" });
  const path = capture.clientOptions.mongodbLogPath as MongoDBLogWritable;
  return { capture, write: (log) => path.write(log) };
}

describe("log messages", () => {
  test("asks the driver for the observed components and keeps level, component and data", () => {
    const { capture, write } = captured();
    expect(capture.clientOptions.mongodbLogComponentSeverities).toEqual({ command: "debug" });
    write({ t: new Date(), s: "debug", c: "command", message: "Command started", commandName: "ping" });
    capture.stop();
    write({ t: new Date(), s: "debug", c: "command", message: "Command started", commandName: "endSessions" });
    expect(capture.messages).toEqual([{ level: "debug", component: "command", data: { message: "Command started", commandName: "ping" } }]);
  });

  test("refuses a component the logging spec does not name", () => {
    expect(() => new LogMessageCapture({ storage: "debug" })).toThrow("is not supported by this runner");
  });

  test("matches data as a root document, after dropping ignored messages", () => {
    const { capture, write } = captured();
    write({ t: new Date(), s: "debug", c: "command", message: "Command started", commandName: "hello" });
    write({ t: new Date(), s: "debug", c: "command", message: "Command failed", commandName: "find", failure: "(redacted)" });
    const expected = {
      client: "c",
      ignoreMessages: [{ level: "debug", component: "command", data: { commandName: "hello" } }],
      messages: [{ level: "debug", component: "command", failureIsRedacted: true, data: { message: "Command failed" } }],
    };
    expect(checkExpectedLogMessages(expected, capture.messages, noEntities)).toBeNull();
    const notRedacted = { ...expected, messages: [{ ...expected.messages[0], failureIsRedacted: false }] };
    expect(checkExpectedLogMessages(notRedacted, capture.messages, noEntities)).toContain("expected not redacted");
    expect(checkExpectedLogMessages({ client: "c", messages: [] }, capture.messages, noEntities)).toContain(
      "expected 0 message(s), observed 2",
    );
  });
});
