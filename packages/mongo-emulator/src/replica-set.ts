/**
 * A replica set of several members in one process: who is primary (elections after a timeout, the
 * most up-to-date electable member wins), the majority commit point, and keeping secondaries
 * caught up with the primary's oplog (unless delayed or stopped by the stopReplProducer fail point).
 */
import { ObjectId } from "bson";
import { ClusterClock, compareOpTime, type OpTime } from "./cluster-clock.ts";
import { CommandError } from "./errors.ts";
import { Member, type MemberSet } from "./member.ts";
import { replSetConfig } from "./member-status.ts";
import type { MemberView, ReplicationOutcome } from "./replica-set-view.ts";
import { catchUp, initialSync } from "./replication.ts";
import { RetryableWrites } from "./retryable-writes.ts";
import { EmulatorState } from "./state.ts";

export interface ReplicaSetOptions {
  size: number;
  historyLimit: number;
  ttlMonitorIntervalMs?: number;
  electionTimeoutMs: number;
  replicationDelayMs: number;
}

/** A running member with its server. */
interface RunningMember {
  member: Member;
  server: EmulatorState;
}

export class ReplicaSet implements MemberSet {
  readonly members: Member[];
  readonly clock = new ClusterClock();
  readonly retryableWrites = new RetryableWrites();
  readonly replicaSetId = new ObjectId();
  term = 0;
  primary: Member | undefined;
  /** The newest optime a majority of members holds. */
  commitPoint: OpTime;
  #electionTimer: ReturnType<typeof setTimeout> | undefined;
  #delayTimer: ReturnType<typeof setTimeout> | undefined;
  #unsubscribe = () => {};
  #waiters = new Set<() => void>();
  #closed = false;

  constructor(readonly options: ReplicaSetOptions) {
    this.members = Array.from({ length: options.size }, (_, id) => new Member(this, id));
    this.commitPoint = this.clock.current;
  }

  get majority(): number {
    return Math.floor(this.members.length / 2) + 1;
  }

  get uri(): string {
    return `mongodb://${this.members.map((member) => member.host).join(",")}/?replicaSet=rs0`;
  }

  /** electionId: mongod's ObjectId made of 0x7fffffff and the term. */
  get electionId(): ObjectId {
    return new ObjectId(`7fffffff${this.term.toString(16).padStart(16, "0")}`);
  }

  /** Starts every member (the first on `port`) and makes the first one primary at once. */
  async start(port: number): Promise<void> {
    try {
      for (const member of this.members) await member.start(member.id === 0 ? port : 0);
    } catch (error) {
      await this.close();
      throw error;
    }
    this.#elect();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#electionTimer);
    clearTimeout(this.#delayTimer);
    this.#unsubscribe();
    for (const member of this.members) member.stop();
  }

  /** The server state a member runs with (the set's clock and session table). */
  newServerState(): EmulatorState {
    const { historyLimit, ttlMonitorIntervalMs } = this.options;
    return new EmulatorState(historyLimit, false, ttlMonitorIntervalMs, { clock: this.clock, retryableWrites: this.retryableWrites });
  }

  /** A member (re)started: it copies the primary's data (or the freshest copy there is) and rejoins as a secondary. */
  joined(member: Member, server: EmulatorState, previous: EmulatorState | undefined): void {
    const others = this.#running()
      .filter((running) => running.member !== member)
      .map((running) => running.server);
    const candidates = [...others, ...(previous ? [previous] : [])];
    const source = this.primary?.server ?? freshest(candidates);
    if (source) initialSync(server, source);
    // mongosh's rs helpers look for the config in local.system.replset.
    server.store.putUnlogged("local", "system.replset", [replSetConfig(member).config]);
    server.oplog.commitThrough(this.commitPoint);
    this.#changed();
  }

  /** A member shut down: without it the others elect when it was primary. */
  left(_member: Member, wasPrimary: boolean): void {
    if (wasPrimary) this.#losePrimary();
    this.#changed();
  }

  /** Steps the primary down once an electable secondary has caught up (or at once with `force`). */
  async stepDown(member: Member, options: { stepDownSecs: number; catchUpSecs: number; force: boolean }): Promise<void> {
    if (!member.isPrimary()) throw new CommandError(10107, "not primary so can't step down");
    if (options.catchUpSecs > options.stepDownSecs) {
      throw new CommandError(2, "stepdown period must be longer than secondaryCatchUpPeriodSecs");
    }
    const caughtUp = () => {
      const own = member.server?.oplog.lastTime;
      return (
        own !== undefined &&
        this.#running().some(
          (running) =>
            running.member !== member && running.member.frozenUntil <= Date.now() && compareOpTime(running.server.oplog.lastTime, own) >= 0,
        )
      );
    };
    // Like mongod, a primary that has begun to step down accepts no writes while its secondaries catch up.
    member.steppingDown = true;
    // (Checked in this order: a member that shut down meanwhile has no data to compare.)
    const ready = await this.waitFor(() => !member.isPrimary() || caughtUp(), options.catchUpSecs * 1000).finally(() => {
      member.steppingDown = false;
    });
    if (!member.isPrimary()) throw new CommandError(189, "primary stepped down during a step-down");
    if (!ready && !options.force) {
      throw new CommandError(
        262,
        `No electable secondaries caught up as of ${new Date().toISOString()}. Please use the replSetStepDown command with the argument {force: true} to force node to step down.`,
      );
    }
    member.role = "SECONDARY";
    member.since = new Date();
    member.frozenUntil = Date.now() + options.stepDownSecs * 1000;
    this.#losePrimary();
    this.#changed();
  }

  /** replSetFreeze: not electable for `secs` (0 unfreezes). */
  freeze(member: Member, secs: number): void {
    if (member.isPrimary()) throw new CommandError(95, "cannot freeze node when primary or running for election. state: Primary");
    member.frozenUntil = secs > 0 ? Date.now() + secs * 1000 : 0;
    if (secs === 0) this.#scheduleElection(0);
  }

  /** Waits until a write at `time` made on `member` is held by `w` members ("majority" = the commit point). */
  async awaitReplication(member: MemberView, time: OpTime, w: number | "majority", timeoutMs: number): Promise<ReplicationOutcome> {
    const satisfied = () =>
      w === "majority"
        ? compareOpTime(this.commitPoint, time) >= 0
        : this.#running().filter((running) => compareOpTime(running.server.oplog.lastTime, time) >= 0).length >= w;
    await this.waitFor(() => satisfied() || !member.isPrimary(), timeoutMs);
    if (satisfied()) return "satisfied";
    if (!member.running) return "shutdown";
    return member.isPrimary() ? "timeout" : "steppedDown";
  }

  /** Resolves true once `predicate` holds (checked after every replication step), false after `timeoutMs` (Infinity: never). */
  waitFor(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    if (predicate()) return Promise.resolve(true);
    const { promise, resolve } = Promise.withResolvers<boolean>();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const check = () => {
      if (!predicate() && !this.#closed) return;
      finish(predicate());
    };
    const finish = (result: boolean) => {
      clearTimeout(timer);
      this.#waiters.delete(check);
      resolve(result);
    };
    this.#waiters.add(check);
    // setTimeout fires at once past 2^31-1 ms; longer waits are as good as endless.
    if (timeoutMs < 2 ** 31 - 1) timer = setTimeout(() => finish(predicate()), timeoutMs);
    return promise;
  }

  /** Brings every running secondary up to date with the primary and moves the commit point. */
  replicate(): void {
    const primary = this.primary?.server;
    clearTimeout(this.#delayTimer);
    this.#delayTimer = undefined;
    let nextDue: number | undefined;
    if (primary) {
      for (const member of this.members) {
        const server = member.server;
        if (!server || member === this.primary || server.failPoints.isActive("stopReplProducer")) continue;
        const due = catchUp(server, primary, this.options.replicationDelayMs);
        if (due !== undefined) nextDue = Math.min(nextDue ?? due, due);
      }
    }
    if (nextDue !== undefined && !this.#closed) {
      this.#delayTimer = setTimeout(() => this.replicate(), Math.max(1, nextDue - Date.now()));
    }
    this.#advanceCommitPoint();
  }

  #advanceCommitPoint(): void {
    if (this.primary) {
      const applied = this.#running()
        .map((running) => running.server.oplog.lastTime)
        .sort((a, b) => compareOpTime(b, a));
      const held = applied[this.majority - 1];
      if (held && compareOpTime(held, this.commitPoint) > 0) this.commitPoint = held;
    }
    for (const member of this.members) {
      const server = member.server;
      if (!server) continue;
      server.oplog.commitThrough(this.commitPoint);
      server.majority?.advance(server.oplog);
    }
    for (const check of [...this.#waiters]) check();
  }

  #losePrimary(): void {
    this.primary = undefined;
    this.#unsubscribe();
    this.#unsubscribe = () => {};
    this.#scheduleElection(this.options.electionTimeoutMs);
  }

  /** Something a hello reports changed: every member answers its awaitable hellos now. */
  #changed(): void {
    for (const member of this.members) member.server?.topologyChanged();
    this.replicate();
    if (!this.primary) this.#scheduleElection(this.options.electionTimeoutMs);
  }

  #scheduleElection(afterMs: number): void {
    if (this.primary || this.#closed) return;
    if (this.#electionTimer !== undefined && afterMs > 0) return;
    clearTimeout(this.#electionTimer);
    this.#electionTimer = setTimeout(() => {
      this.#electionTimer = undefined;
      this.#elect();
    }, afterMs);
  }

  /** The most up-to-date electable member becomes primary, if a majority of members is up. */
  #elect(): void {
    if (this.primary || this.#closed) return;
    const running = this.#running();
    if (running.length < this.majority) return; // a member that starts again calls the next election
    const now = Date.now();
    const electable = running.filter((candidate) => candidate.member.frozenUntil <= now);
    if (electable.length === 0) {
      this.#scheduleElection(Math.min(...running.map((candidate) => candidate.member.frozenUntil)) - now + 1);
      return;
    }
    const winner = electable.reduce((best, candidate) =>
      compareOpTime(candidate.server.oplog.lastTime, best.server.oplog.lastTime) > 0 ? candidate : best,
    );
    this.term++;
    this.primary = winner.member;
    winner.member.role = "PRIMARY";
    winner.server.oplog.term = this.term;
    winner.member.since = new Date();
    this.#unsubscribe = winner.server.oplog.subscribe(() => this.replicate());
    this.#changed();
  }

  /** The members that run, each with its server. */
  #running(): RunningMember[] {
    return this.members.flatMap((member) => (member.server ? [{ member, server: member.server }] : []));
  }
}

function freshest(states: EmulatorState[]): EmulatorState | undefined {
  return states.reduce<EmulatorState | undefined>(
    (best, state) => (!best || compareOpTime(state.oplog.lastTime, best.oplog.lastTime) > 0 ? state : best),
    undefined,
  );
}
