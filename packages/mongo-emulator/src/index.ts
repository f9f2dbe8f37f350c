/** Public API: an in-process MongoDB wire-protocol emulator for tests (single-node replica set rs0, 7.0). */
import type { Socket, TCPSocketListener } from "bun";
import { Connection } from "./connection.ts";
import { EmulatorState } from "./state.ts";

export { withDatabase } from "./connection-string.ts";

/** Options for an in-process MongoDB wire-protocol emulator (test infrastructure only). */
export interface EmulatorOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
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
}

/** A running emulator: a single-node replica set `rs0`, server version 7.0. */
export interface Emulator extends AsyncDisposable {
  /** `mongodb://127.0.0.1:<port>/?replicaSet=rs0` */
  uri: string;
  port: number;
  close(): Promise<void>;
}

/** Starts the emulator and resolves once it accepts connections. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const state = new EmulatorState(options.historyLimit ?? 100_000, options.standalone ?? false, options.ttlMonitorIntervalMs);
  const sockets = new Set<Socket<Connection>>();
  let listener: TCPSocketListener<Connection>;
  try {
    listener = listen(state, sockets, options.port ?? 0);
  } catch (error) {
    state.shutdown();
    throw error;
  }
  state.port = listener.port;
  const uri = `mongodb://127.0.0.1:${listener.port}/${state.standalone ? "" : "?replicaSet=rs0"}`;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      state.shutdown();
      listener.stop(true);
      for (const socket of sockets) socket.data?.onClose();
      sockets.clear();
    })();
    return closing;
  };
  return { uri, port: listener.port, close, [Symbol.asyncDispose]: close };
}

/** Accepts connections on 127.0.0.1; each socket gets its own Connection in `socket.data`. */
function listen(state: EmulatorState, sockets: Set<Socket<Connection>>, port: number): TCPSocketListener<Connection> {
  return Bun.listen<Connection>({
    hostname: "127.0.0.1",
    port,
    socket: {
      open(socket) {
        socket.data = new Connection(state, socket);
        sockets.add(socket);
      },
      data(socket, chunk) {
        socket.data.onData(chunk);
      },
      drain(socket) {
        socket.data.onDrain();
      },
      close(socket) {
        sockets.delete(socket);
        socket.data?.onClose();
      },
      error(socket) {
        sockets.delete(socket);
        socket.data?.onClose();
      },
    },
  });
}
