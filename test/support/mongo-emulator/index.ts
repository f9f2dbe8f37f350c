/** Options for an in-process MongoDB wire-protocol emulator (test infrastructure only). */
export interface EmulatorOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** How many oplog entries change streams can resume from before ChangeStreamHistoryLost (286). */
  historyLimit?: number;
}

/** A running emulator: a single-node replica set `rs0`, server version 7.0. */
export interface Emulator extends AsyncDisposable {
  /** `mongodb://127.0.0.1:<port>/?replicaSet=rs0` */
  uri: string;
  port: number;
  close(): Promise<void>;
}

/** Starts the emulator and resolves once it accepts connections. */
export async function startEmulator(_options: EmulatorOptions = {}): Promise<Emulator> {
  throw new Error("not implemented yet");
}
