/** The TCP side of one server: accepts connections on 127.0.0.1, each socket with its own Connection. */
import type { Socket, TCPSocketListener } from "bun";
import { Connection } from "./connection.ts";
import type { EmulatorState } from "./state.ts";

export interface Listening {
  port: number;
  /** Stops listening and drops every connection (the peers see the sockets close). */
  close(): void;
}

/** Listens on 127.0.0.1:`port` (0 picks a free one); throws when the port is taken. */
export function listen(state: EmulatorState, port: number): Listening {
  const sockets = new Set<Socket<Connection>>();
  let closed = false;
  const listener: TCPSocketListener<Connection> = Bun.listen<Connection>({
    hostname: "127.0.0.1",
    port,
    socket: {
      open(socket) {
        // A connection accepted as the member stops would otherwise wait forever for its handshake's answer:
        // a stopped mongod's sockets are closed by the kernel, so this one is too.
        if (closed) {
          socket.terminate();
          return;
        }
        socket.data = new Connection(state, socket);
        sockets.add(socket);
      },
      data(socket, chunk) {
        socket.data?.onData(chunk);
      },
      drain(socket) {
        socket.data?.onDrain();
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
  return {
    port: listener.port,
    close() {
      closed = true;
      listener.stop(true);
      for (const socket of sockets) {
        socket.data?.onClose();
        socket.terminate(); // whatever stop(true) left open: the peers see the sockets close
      }
      sockets.clear();
    },
  };
}
