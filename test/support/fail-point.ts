import type { MongoClient } from "mongodb";

/** A `configureFailPoint` command (`failCommand` unless named), as a real mongod with test commands takes it. */
export type FailPointCommand = {
  configureFailPoint?: "failCommand" | "failGetMoreAfterCursorCheckout";
  mode: "alwaysOn" | { times: number } | { skip: number };
  data: Record<string, unknown>;
};

/**
 * Arms a fail point and switches it off when disposed, whatever the test did meanwhile:
 * `await using _fault = await failPoint(driver, { mode: { times: 1 }, data: { ... } })`.
 */
export async function failPoint(client: MongoClient, command: FailPointCommand): Promise<AsyncDisposable> {
  const name = command.configureFailPoint ?? "failCommand";
  const admin = client.db("admin");
  await admin.command({ configureFailPoint: name, mode: command.mode, data: command.data });
  return { [Symbol.asyncDispose]: async () => void (await admin.command({ configureFailPoint: name, mode: "off" })) };
}
