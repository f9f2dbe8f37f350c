/** Public API: an in-process MongoDB wire-protocol emulator for tests (replica set rs0, 7.0: one member, or three). */
import { listen } from "./listener.ts";
import { ReplicaSet } from "./replica-set.ts";
import type { Member } from "./member.ts";
import { EmulatorState } from "./state.ts";

export { withDatabase } from "./connection-string.ts";
export type { Member } from "./member.ts";
export type { MemberState } from "./replica-set-view.ts";

/** Options for an in-process MongoDB wire-protocol emulator (test infrastructure only). */
export interface EmulatorOptions {
  /** TCP port on 127.0.0.1 (of the first member); 0 (default) picks a free one. */
  port?: number;
  /** How many oplog entries change streams can resume from before ChangeStreamHistoryLost (286). */
  historyLimit?: number;
  /**
   * Present as a standalone mongod (no replica set; `$changeStream` refused with 40573), to test
   * how clients react to a deployment without change streams. The URI then has no replicaSet.
   */
  standalone?: boolean;
  /**
   * How often the TTL monitor removes expired documents, in milliseconds: mongod's
   * `ttlMonitorSleepSecs`, 60 s by default (also settable at run time with `setParameter`).
   */
  ttlMonitorIntervalMs?: number;
  /** Members of `rs0`: 1 (default, the single node) or 3, each on its own port. */
  members?: 1 | 3;
  /** With several members: how long the set is without a primary before an election (250 ms; mongod: 10,000). */
  electionTimeoutMs?: number;
  /** With several members: how long after a write on the primary a secondary applies it (0 by default). */
  replicationDelayMs?: number;
}

/** A running emulator: replica set `rs0`, server version 7.0. */
export interface Emulator extends AsyncDisposable {
  /** `mongodb://127.0.0.1:<port>/?replicaSet=rs0` (every member's host with several members). */
  uri: string;
  /** The port of the first member. */
  port: number;
  /** With several members: each member, in the order of the URI (empty for the single node). */
  members: Member[];
  close(): Promise<void>;
}

/** Starts the emulator and resolves once it accepts connections. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  if ((options.members ?? 1) > 1) return startReplicaSet(options);
  const state = new EmulatorState(options.historyLimit ?? 100_000, options.standalone ?? false, options.ttlMonitorIntervalMs);
  let listening: ReturnType<typeof listen>;
  try {
    listening = listen(state, options.port ?? 0);
  } catch (error) {
    state.shutdown();
    throw error;
  }
  state.port = listening.port;
  const uri = `mongodb://127.0.0.1:${listening.port}/${state.standalone ? "" : "?replicaSet=rs0"}`;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      state.shutdown();
      listening.close();
    })();
    return closing;
  };
  return { uri, port: listening.port, members: [], close, [Symbol.asyncDispose]: close };
}

async function startReplicaSet(options: EmulatorOptions): Promise<Emulator> {
  if (options.standalone) throw new Error("a standalone emulator has one member");
  const set = new ReplicaSet({
    size: options.members ?? 3,
    historyLimit: options.historyLimit ?? 100_000,
    ttlMonitorIntervalMs: options.ttlMonitorIntervalMs,
    electionTimeoutMs: options.electionTimeoutMs ?? 250,
    replicationDelayMs: options.replicationDelayMs ?? 0,
  });
  const [first] = set.members;
  if (!first) throw new Error("a replica set has at least one member");
  await set.start(options.port ?? 0);
  const close = () => set.close();
  return { uri: set.uri, port: first.port, members: set.members, close, [Symbol.asyncDispose]: close };
}
