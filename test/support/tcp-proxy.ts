import type { Socket, TCPSocketListener } from "bun";

/** One direction of a connection: what the socket has not taken yet (Bun's write may be partial). */
type Outbox = { socket?: Socket<Side>; queued: Uint8Array[] };
type Side = { pair: Pair; outbox: Outbox };
type Pair = { toClient: Outbox; toUpstream: Outbox };

/**
 * A TCP forwarder on a free port, standing where a load balancer would: clients keep one
 * address while the server behind it restarts on another port. `target` can change at
 * any time; `cut()` drops every connection, as a network failure would.
 */
export class TcpProxy implements Disposable {
  readonly #listener: TCPSocketListener<Side>;
  readonly #pairs = new Set<Pair>();
  /** While true, new connections are dropped at once: the server behind is unreachable. */
  refusing = false;

  constructor(public target: { hostname: string; port: number }) {
    const handlers = {
      data: (socket: Socket<Side>, chunk: Uint8Array) => {
        const { pair, outbox } = socket.data;
        send(outbox === pair.toClient ? pair.toUpstream : pair.toClient, new Uint8Array(chunk));
      },
      drain: (socket: Socket<Side>) => flush(socket.data.outbox),
      close: (socket: Socket<Side>) => socket.data && this.#drop(socket.data.pair),
      error: (socket: Socket<Side>) => socket.data && this.#drop(socket.data.pair),
    };
    this.#listener = Bun.listen<Side>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        ...handlers,
        open: (client) => {
          if (this.refusing) return void client.end();
          const pair: Pair = { toClient: { socket: client, queued: [] }, toUpstream: { queued: [] } };
          client.data = { pair, outbox: pair.toClient };
          this.#pairs.add(pair);
          Bun.connect<Side>({
            ...this.target,
            socket: {
              ...handlers,
              open: (upstream) => {
                upstream.data = { pair, outbox: pair.toUpstream };
                pair.toUpstream.socket = upstream;
                flush(pair.toUpstream);
              },
            },
          }).catch(() => this.#drop(pair));
        },
      },
    });
  }

  get port(): number {
    return this.#listener.port;
  }

  /** Drops every connection through the proxy. */
  cut(): void {
    for (const pair of this.#pairs) this.#drop(pair);
  }

  [Symbol.dispose](): void {
    this.cut();
    this.#listener.stop(true);
  }

  #drop(pair: Pair): void {
    if (!this.#pairs.delete(pair)) return;
    pair.toClient.socket?.end();
    pair.toUpstream.socket?.end();
  }
}

function send(outbox: Outbox, chunk: Uint8Array): void {
  outbox.queued.push(chunk);
  flush(outbox);
}

function flush(outbox: Outbox): void {
  const { socket } = outbox;
  if (!socket) return;
  while (outbox.queued.length > 0) {
    const chunk = outbox.queued[0]!;
    const written = socket.write(chunk);
    if (written < chunk.byteLength) {
      outbox.queued[0] = chunk.subarray(Math.max(0, written));
      return; // the rest goes on drain
    }
    outbox.queued.shift();
  }
}
