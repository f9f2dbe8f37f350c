import { startEmulator, withDatabase } from "mongo-emulator";

/** Where a test's MongoDB lives: the replica set in MONGODB_URI, or a fresh emulator. */
export type MongoTarget = AsyncDisposable & {
  /** A connection string for `database` (each test file uses its own). */
  uri(database: string): string;
  /** True when running against the emulator rather than a real deployment. */
  emulated: boolean;
};

export async function startMongoTarget(): Promise<MongoTarget> {
  const external = process.env.MONGODB_URI;
  if (external) return { uri: (database) => withDatabase(external, database), emulated: false, [Symbol.asyncDispose]: async () => {} };
  const emulator = await startEmulator();
  return { uri: (database) => withDatabase(emulator.uri, database), emulated: true, [Symbol.asyncDispose]: () => emulator.close() };
}

/** A unique database name, so test files never see each other's data on a shared server. */
export function uniqueDatabase(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().slice(0, 8)}`;
}

export { withDatabase };
