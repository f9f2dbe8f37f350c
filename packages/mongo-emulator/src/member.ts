/** One member of a multi-member replica set: its own server state (data, oplog, cursors), its port and its role. */
import { listen, type Listening } from "./listener.ts";
import type { MemberState, MemberView, ReplicaSetView } from "./replica-set-view.ts";
import type { EmulatorState } from "./state.ts";

/** What a member asks of the set it belongs to (ReplicaSet implements it). */
export interface MemberSet extends ReplicaSetView {
  readonly members: readonly Member[];
  readonly primary: Member | undefined;
  /** The server state a member runs with (the set's clock and session table). */
  newServerState(): EmulatorState;
  /** A member (re)started: it copies the primary's data (or the freshest copy there is) and rejoins as a secondary. */
  joined(member: Member, server: EmulatorState, previous: EmulatorState | undefined): void;
  /** A member shut down: without it the others elect when it was primary. */
  left(member: Member, wasPrimary: boolean): void;
  /** Steps the primary down once an electable secondary has caught up (or at once with `force`). */
  stepDown(member: Member, options: { stepDownSecs: number; catchUpSecs: number; force: boolean }): Promise<void>;
  /** replSetFreeze: not electable for `secs` (0 unfreezes). */
  freeze(member: Member, secs: number): void;
}

export class Member implements MemberView {
  port = 0;
  role: MemberState = "DOWN";
  /** Not electable before this time (replSetFreeze, or stepDownSecs after a step-down). */
  frozenUntil = 0;
  /** A step-down waits for a secondary to catch up: writes are refused meanwhile. */
  steppingDown = false;
  /** When the current role began (replSetGetStatus's electionDate and uptime). */
  since = new Date();
  #state: EmulatorState | undefined;
  #listening: Listening | undefined;
  /** The data of the last run, kept while the member is down so a restart starts from it. */
  #last: EmulatorState | undefined;

  constructor(
    readonly set: MemberSet,
    /** `_id` in the replica set config. */
    readonly id: number,
  ) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** A URI for this member alone (`directConnection=true`). */
  get uri(): string {
    return `mongodb://${this.host}/?directConnection=true`;
  }

  get state(): MemberState {
    return this.role;
  }

  /** The running server, undefined while the member is down. */
  get server(): EmulatorState | undefined {
    return this.#state;
  }

  /** The data the member holds, running or not. */
  get data(): EmulatorState | undefined {
    return this.#state ?? this.#last;
  }

  get running(): boolean {
    return this.#state !== undefined;
  }

  isPrimary(): boolean {
    return this.role === "PRIMARY";
  }

  /** Listens (on its old port after a shutdown) and rejoins the set as a secondary. */
  async start(port = this.port): Promise<void> {
    if (this.#state) return;
    const state = this.set.newServerState();
    state.replica = this;
    const listening = listen(state, port); // throws when the port is taken
    state.port = this.port = listening.port;
    this.#state = state;
    this.#listening = listening;
    this.role = "SECONDARY";
    this.since = new Date();
    this.set.joined(this, state, this.#last);
    this.#last = undefined;
  }

  /** Stops listening and drops every connection (like mongod's shutdown); the set elects without it. */
  async shutdown(options: { force?: boolean; timeoutSecs?: number } = {}): Promise<void> {
    if (!this.#state) return;
    if (this.isPrimary() && !options.force)
      await this.set.stepDown(this, { stepDownSecs: 60, catchUpSecs: options.timeoutSecs ?? 15, force: false });
    this.stop();
  }

  /** Shuts down at once, without a step-down's wait. */
  stop(): void {
    const state = this.#state;
    if (!state) return;
    const wasPrimary = this.isPrimary();
    this.#state = undefined;
    this.#last = state;
    this.role = "DOWN";
    this.since = new Date();
    state.shutdown();
    this.#listening?.close();
    this.#listening = undefined;
    this.set.left(this, wasPrimary);
  }

  /** replSetStepDown on this member (it must be the primary). */
  stepDown(options: { stepDownSecs?: number; secondaryCatchUpPeriodSecs?: number; force?: boolean } = {}): Promise<void> {
    return this.set.stepDown(this, {
      stepDownSecs: options.stepDownSecs ?? 60,
      catchUpSecs: options.secondaryCatchUpPeriodSecs ?? 10,
      force: options.force ?? false,
    });
  }

  /** replSetFreeze on this member (it must not be the primary). */
  freeze(secs: number): void {
    this.set.freeze(this, secs);
  }
}
