/**
 * What a member's server, its commands and its status reports see of the replica set and its members.
 * Member and ReplicaSet implement these; the layers below them (state.ts, the commands) depend on
 * these interfaces only, since member.ts builds and listens with those layers.
 */
import type { ObjectId } from "bson";
import type { OpTime } from "./cluster-clock.ts";
import type { Oplog } from "./oplog.ts";

/** What rs.status() calls `stateStr` (a member that was shut down is DOWN; mongod's peers report "(not reachable/healthy)"). */
export type MemberState = "PRIMARY" | "SECONDARY" | "DOWN";

/** How a wait for replication ended. */
export type ReplicationOutcome = "satisfied" | "timeout" | "steppedDown" | "shutdown";

/** The part of a member's server (or of the data it kept while down) the set's reports read. */
export interface MemberData {
  readonly oplog: Oplog;
  readonly startedAt: Date;
}

/** One member, as its server, its commands and the status reports see it. */
export interface MemberView {
  readonly set: ReplicaSetView;
  /** `_id` in the replica set config. */
  readonly id: number;
  readonly host: string;
  readonly role: MemberState;
  /** When the current role began (replSetGetStatus's electionDate and uptime). */
  readonly since: Date;
  /** A step-down waits for a secondary to catch up: writes are refused meanwhile. */
  readonly steppingDown: boolean;
  /** The running server, undefined while the member is down. */
  readonly server: MemberData | undefined;
  /** The data the member holds, running or not. */
  readonly data: MemberData | undefined;
  readonly running: boolean;
  isPrimary(): boolean;
  /** Listens (on its old port after a shutdown) and rejoins the set as a secondary. */
  start(): Promise<void>;
  /** Stops listening and drops every connection (a primary steps down first unless `force`). */
  shutdown(options?: { force?: boolean; timeoutSecs?: number }): Promise<void>;
  /** replSetStepDown on this member (it must be the primary). */
  stepDown(options?: { stepDownSecs?: number; secondaryCatchUpPeriodSecs?: number; force?: boolean }): Promise<void>;
  /** replSetFreeze: not electable for `secs` (0 unfreezes). */
  freeze(secs: number): void;
}

/** The replica set, as its members' servers, commands and status reports see it. */
export interface ReplicaSetView {
  readonly members: readonly MemberView[];
  readonly primary: MemberView | undefined;
  readonly term: number;
  readonly electionId: ObjectId;
  readonly replicaSetId: ObjectId;
  /** How many members make a majority. */
  readonly majority: number;
  /** The newest optime a majority of members holds. */
  readonly commitPoint: OpTime;
  readonly options: { readonly electionTimeoutMs: number };
  /** Waits until a write at `time` made on `member` is held by `w` members ("majority" = the commit point). */
  awaitReplication(member: MemberView, time: OpTime, w: number | "majority", timeoutMs: number): Promise<ReplicationOutcome>;
  /** Resolves true once `predicate` holds (checked after every replication step), false after `timeoutMs` (Infinity: never). */
  waitFor(predicate: () => boolean, timeoutMs: number): Promise<boolean>;
  /** Brings every running secondary up to date with the primary and moves the commit point. */
  replicate(): void;
}
