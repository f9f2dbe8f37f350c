/** One client connection: framing, in-order command processing, and back-pressured writes. */
import type { Socket } from "bun";
import type { Document } from "bson";
import {
  decodeMessage,
  encodeOpMsg,
  encodeOpReply,
  MessageFramer,
  MSG_EXHAUST_ALLOWED,
  MSG_MORE_TO_COME,
  OP_MSG,
  OP_QUERY,
  type Request,
} from "./wire.ts";
import { runCommand } from "./dispatch.ts";
import { CLOSE_CONNECTION, type ConnectionInfo } from "./commands/context.ts";
import type { EmulatorState } from "./state.ts";

/** Per-socket state (stored in `socket.data`). */
export class Connection implements ConnectionInfo {
  readonly id: number;
  appName?: string;
  readonly #framer = new MessageFramer();
  readonly #queue: Request[] = [];
  #busy = false;
  #closed = false;
  #unsent: Buffer[] = [];
  readonly #abort = new AbortController();
  readonly signal = this.#abort.signal;

  constructor(
    readonly state: EmulatorState,
    readonly socket: Socket<Connection>,
  ) {
    this.id = state.nextConnectionId();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes arrived: frame them and run every complete message in order. */
  onData(chunk: Buffer): void {
    if (this.#closed) return;
    try {
      for (const message of this.#framer.push(chunk)) this.#queue.push(decodeMessage(message));
    } catch {
      // Malformed input: drop this connection, never the emulator.
      this.close();
      return;
    }
    this.#pump();
  }

  #pump(): void {
    while (!this.#busy && !this.#closed) {
      const request = this.#queue.shift();
      if (!request) return;
      const reply = this.#run(request);
      if (reply instanceof Promise) {
        this.#busy = true;
        reply.then(
          (doc) => {
            this.#busy = false;
            this.#respond(request, doc);
            this.#pump();
          },
          () => this.close(),
        );
        return;
      }
      this.#respond(request, reply);
    }
  }

  #run(request: Request): Document | Promise<Document> {
    const command = request.command;
    const db = typeof command.$db === "string" ? command.$db : ((request.fullCollectionName ?? "admin").split(".")[0] ?? "admin");
    return runCommand({
      state: this.state,
      connection: this,
      db,
      command,
      exhaustAllowed: (request.flags & MSG_EXHAUST_ALLOWED) !== 0,
    });
  }

  #respond(request: Request, reply: Document, responseTo = request.requestId): void {
    if (this.#closed || reply === CLOSE_CONNECTION) return;
    if (request.opCode === OP_MSG && request.flags & MSG_MORE_TO_COME) {
      // No reply wanted (w:0). A member of several that cannot take the write hangs up instead, as mongod does.
      if (reply.code === 10107 && this.state.replica) this.close();
      return;
    }
    const streaming = reply.ok === 1 && isExhaustHello(request);
    let bytes: Buffer;
    try {
      bytes = this.#encode(request, reply, responseTo, streaming);
    } catch (error) {
      // A reply that cannot be encoded (e.g. over 16 MB) becomes an error reply, never a crash.
      const message = error instanceof Error ? error.message : String(error);
      const failure = { ok: 0, errmsg: `cannot encode reply: ${message}`, code: 10334, codeName: "BSONObjectTooLarge" };
      bytes = this.#encode(request, failure, responseTo, false);
    }
    this.#write(bytes);
    if (!streaming) return;
    // The next streamed reply waits for a change from the one just sent, as mongod's exhaust hello does.
    request.command.topologyVersion = reply.topologyVersion;
    this.#stream(request, bytes.readInt32LE(4));
  }

  /**
   * The streaming protocol of server monitoring: an awaitable hello sent with exhaustAllowed is
   * answered with moreToCome, and then, as mongod does, answered again after every wait without
   * a new request, each reply answering the previous one, until the connection closes.
   */
  #stream(request: Request, previousReplyId: number): void {
    this.#busy = true;
    Promise.resolve(this.#run(request)).then(
      (reply) => {
        this.#busy = false;
        if (this.#closed) return;
        this.#respond(request, reply, previousReplyId);
        this.#pump();
      },
      () => this.close(),
    );
  }

  #encode(request: Request, reply: Document, responseTo: number, moreToCome: boolean): Buffer {
    if (request.opCode === OP_QUERY) return encodeOpReply(responseTo, reply);
    return encodeOpMsg(responseTo, reply, moreToCome ? MSG_MORE_TO_COME : 0);
  }

  #write(buf: Buffer): void {
    if (this.#unsent.length > 0) {
      this.#unsent.push(buf);
      return;
    }
    const written = this.socket.write(buf);
    if (written < buf.length) this.#unsent.push(buf.subarray(Math.max(written, 0)));
  }

  /** The socket can take more bytes. */
  onDrain(): void {
    for (let buf = this.#unsent[0]; buf !== undefined && !this.#closed; buf = this.#unsent[0]) {
      const written = this.socket.write(buf);
      if (written < buf.length) {
        this.#unsent[0] = buf.subarray(Math.max(written, 0));
        return;
      }
      this.#unsent.shift();
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    this.#unsent = [];
    this.#abort.abort();
    this.socket.end();
  }

  /** The peer went away. */
  onClose(): void {
    this.#closed = true;
    this.#queue.length = 0;
    this.#unsent = [];
    this.#abort.abort();
  }
}

/** An awaitable hello (topologyVersion and maxAwaitTimeMS) whose sender allows exhaust replies. */
function isExhaustHello(request: Request): boolean {
  if (request.opCode !== OP_MSG || !(request.flags & MSG_EXHAUST_ALLOWED)) return false;
  const { command } = request;
  const name = Object.keys(command)[0]?.toLowerCase();
  return (name === "hello" || name === "ismaster") && command.topologyVersion !== undefined && command.maxAwaitTimeMS !== undefined;
}
