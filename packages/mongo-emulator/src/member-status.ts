/** What a member reports about the set: its hello fields, replSetGetStatus and replSetGetConfig, as mongod 7.0 shapes them. */
import { Long, Timestamp, type Document } from "bson";
import { toTimestamp, type OpTime } from "./cluster-clock.ts";
import type { MemberData, MemberView } from "./replica-set-view.ts";

const STATE_CODES = { PRIMARY: 1, SECONDARY: 2, DOWN: 8 } as const;

/** `{ts, t}` with the term of the write at that time (a time with no write here: the current term). */
function opTime(member: MemberView, time: OpTime): Document {
  const term = member.data?.oplog.entryAt(time)?.term ?? member.set.term;
  return { ts: toTimestamp(time), t: Long.fromNumber(term) };
}

function wallTimeOf(time: OpTime): Date {
  return new Date(time.t * 1000);
}

/** The replica set fields of a member's hello (`server`: the member's running server, which answers). */
export function memberHelloFields(member: MemberView, server: MemberData, legacy: boolean): Document {
  const { set } = member;
  const fields: Document = {
    hosts: set.members.map((m) => m.host),
    setName: "rs0",
    setVersion: 1,
    [legacy ? "ismaster" : "isWritablePrimary"]: member.isPrimary(),
    secondary: member.role === "SECONDARY",
    me: member.host,
    lastWrite: {
      opTime: opTime(member, server.oplog.lastTime),
      lastWriteDate: wallTimeOf(server.oplog.lastTime),
      majorityOpTime: opTime(member, server.oplog.readableTime),
      majorityWriteDate: wallTimeOf(server.oplog.readableTime),
    },
  };
  if (set.primary) fields.primary = set.primary.host;
  if (member.isPrimary()) fields.electionId = set.electionId;
  return fields;
}

function memberStatus(member: MemberView, self: MemberView): Document {
  const { set } = member;
  const server = member.data;
  const running = member.running;
  const applied = server?.oplog.lastTime;
  const status: Document = {
    _id: member.id,
    name: member.host,
    health: running ? 1 : 0,
    state: STATE_CODES[member.role],
    stateStr: running ? member.role : "(not reachable/healthy)",
    uptime: running ? Math.floor((Date.now() - (server?.startedAt.getTime() ?? Date.now())) / 1000) : 0,
    optime: running && applied ? opTime(member, applied) : { ts: new Timestamp({ t: 0, i: 0 }), t: Long.fromNumber(-1) },
    optimeDate: running && applied ? wallTimeOf(applied) : new Date(0),
    lastAppliedWallTime: running && applied ? wallTimeOf(applied) : new Date(0),
    syncSourceHost: running && member.role === "SECONDARY" ? (set.primary?.host ?? "") : "",
    syncSourceId: running && member.role === "SECONDARY" ? (set.primary?.id ?? -1) : -1,
    infoMessage: "",
    configVersion: 1,
    configTerm: Long.fromNumber(set.term),
  };
  if (member.isPrimary()) {
    status.electionTime = new Timestamp({ t: Math.floor(member.since.getTime() / 1000), i: 1 });
    status.electionDate = member.since;
  }
  if (member === self) status.self = true;
  else {
    status.lastHeartbeat = new Date();
    status.lastHeartbeatMessage = running ? "" : `Error connecting to ${member.host} :: caused by :: Connection refused`;
    status.pingMs = Long.ZERO;
  }
  return status;
}

/** replSetGetStatus as rs.status() shows it (`server`: the member's running server, which answers). */
export function replSetStatus(self: MemberView, server: MemberData): Document {
  const { set } = self;
  const committed = opTime(self, set.commitPoint);
  const applied = opTime(self, server.oplog.lastTime);
  return {
    set: "rs0",
    date: new Date(),
    myState: STATE_CODES[self.role],
    term: Long.fromNumber(set.term),
    syncSourceHost: self.role === "SECONDARY" ? (set.primary?.host ?? "") : "",
    syncSourceId: self.role === "SECONDARY" ? (set.primary?.id ?? -1) : -1,
    heartbeatIntervalMillis: Long.fromNumber(2000),
    majorityVoteCount: set.majority,
    writeMajorityCount: set.majority,
    votingMembersCount: set.members.length,
    writableVotingMembersCount: set.members.length,
    optimes: {
      lastCommittedOpTime: committed,
      lastCommittedWallTime: wallTimeOf(set.commitPoint),
      readConcernMajorityOpTime: opTime(self, server.oplog.readableTime),
      appliedOpTime: applied,
      durableOpTime: applied,
      lastAppliedWallTime: wallTimeOf(server.oplog.lastTime),
      lastDurableWallTime: wallTimeOf(server.oplog.lastTime),
    },
    members: set.members.map((member) => memberStatus(member, self)),
    ok: 1,
  };
}

/** replSetGetConfig as rs.conf() shows it. */
export function replSetConfig(self: MemberView): Document {
  const { set } = self;
  return {
    config: {
      _id: "rs0",
      version: 1,
      term: set.term,
      members: set.members.map((member) => ({
        _id: member.id,
        host: member.host,
        arbiterOnly: false,
        buildIndexes: true,
        hidden: false,
        priority: 1,
        tags: {},
        secondaryDelaySecs: Long.ZERO,
        votes: 1,
      })),
      protocolVersion: Long.ONE,
      writeConcernMajorityJournalDefault: true,
      settings: {
        chainingAllowed: true,
        heartbeatIntervalMillis: 2000,
        heartbeatTimeoutSecs: 10,
        electionTimeoutMillis: set.options.electionTimeoutMs,
        catchUpTimeoutMillis: -1,
        catchUpTakeoverDelayMillis: 30000,
        getLastErrorModes: {},
        getLastErrorDefaults: { w: 1, wtimeout: 0 },
        replicaSetId: set.replicaSetId,
      },
    },
    ok: 1,
  };
}
