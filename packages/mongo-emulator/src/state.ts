/** Everything one running emulator owns: data, history, cursors, fail points, the TTL monitor and pending timers. */
import { Binary, ObjectId, Long, type Document } from "bson";
import { CursorRegistry } from "./cursors.ts";
import { FailPoints } from "./fail-points.ts";
import { Oplog } from "./oplog.ts";
import { MajoritySnapshot } from "./majority-snapshot.ts";
import { RetryableWrites } from "./retryable-writes.ts";
import { Store } from "./store.ts";
import { TtlMonitor } from "./ttl-monitor.ts";
import { toTimestamp, type ClusterClock } from "./cluster-clock.ts";
import type { MemberView } from "./replica-set-view.ts";

const ZERO_HASH_BINARY = new Binary(new Uint8Array(20), 0);

/** Shared server state passed to every command handler. */
export class EmulatorState {
  readonly oplog: Oplog;
  readonly store: Store;
  readonly cursors = new CursorRegistry();
  readonly failPoints = new FailPoints();
  readonly retryableWrites: RetryableWrites;
  /** In a replica set: the majority-committed data, for majority reads. */
  readonly majority: MajoritySnapshot | undefined;
  readonly ttlMonitor: TtlMonitor;
  readonly processId = new ObjectId();
  readonly electionId = new ObjectId("7fffffff0000000000000001");
  readonly startedAt = new Date();
  port = 0;
  closed = false;
  /** Set when this is one member of a multi-member replica set; undefined for the single node. */
  replica: MemberView | undefined;
  /** topologyVersion.counter: bumped on every state change a hello reports. */
  topologyCounter = 0;
  #topologyWaiters = new Set<() => void>();
  #timers = new Set<{ timer: ReturnType<typeof setTimeout>; resolve: () => void }>();
  #nextConnectionId = 1;
  #gossipFor: unknown = null;
  #gossip: Document = {};
  readonly #reaper: ReturnType<typeof setInterval>;

  constructor(
    historyLimit: number,
    /** A standalone mongod: no replica set, no change streams. */
    readonly standalone = false,
    ttlMonitorIntervalMs?: number,
    /** In a replica set: the set's clock and session table, shared by its members. */
    shared?: { clock: ClusterClock; retryableWrites: RetryableWrites },
  ) {
    this.oplog = new Oplog(historyLimit, shared?.clock, shared !== undefined);
    this.store = new Store(this.oplog);
    this.retryableWrites = shared?.retryableWrites ?? new RetryableWrites();
    this.majority = shared && new MajoritySnapshot(shared.clock);
    // Like mongod's, the TTL monitor deletes only on a primary.
    this.ttlMonitor = new TtlMonitor(this.store, ttlMonitorIntervalMs, () => this.replica?.isPrimary() ?? true);
    this.#reaper = setInterval(() => this.cursors.reapIdle(Date.now()), 60_000);
    this.#reaper.unref();
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  nextConnectionId(): number {
    return this.#nextConnectionId++;
  }

  /**
   * Resolves after `ms`, or as soon as the emulator closes or `signal` (the connection) aborts,
   * so close() never waits for timers.
   */
  sleep(ms: number, signal?: AbortSignal): { promise: Promise<void>; cancel: () => void } {
    const { promise, resolve } = Promise.withResolvers<void>();
    if (this.closed || signal?.aborted) {
      resolve();
      return { promise, cancel: () => {} };
    }
    const entry = {
      timer: setTimeout(() => {
        this.#timers.delete(entry);
        resolve();
      }, ms),
      resolve,
    };
    this.#timers.add(entry);
    const cancel = () => {
      clearTimeout(entry.timer);
      this.#timers.delete(entry);
      signal?.removeEventListener("abort", cancel);
      resolve();
    };
    signal?.addEventListener("abort", cancel, { once: true });
    return { promise, cancel };
  }

  /** A hello reports something new: bump topologyVersion and answer every awaitable hello at once. */
  topologyChanged(): void {
    this.topologyCounter++;
    for (const wake of [...this.#topologyWaiters]) wake();
  }

  /** Resolves after `ms`, or at once when the topology changes, the emulator closes or `signal` aborts. */
  awaitTopologyChange(ms: number, signal?: AbortSignal): Promise<void> {
    const timer = this.sleep(ms, signal);
    const wake = () => timer.cancel();
    this.#topologyWaiters.add(wake);
    return timer.promise.finally(() => this.#topologyWaiters.delete(wake));
  }

  /** Stops every timer and wakes everything that waits. */
  shutdown(): void {
    this.closed = true;
    clearInterval(this.#reaper);
    this.ttlMonitor.stop();
    for (const entry of this.#timers) {
      clearTimeout(entry.timer);
      entry.resolve();
    }
    this.#timers.clear();
    this.cursors.killAll();
    this.oplog.notify();
  }

  /** `$clusterTime` and `operationTime` for a reply. */
  gossip(): Document {
    const current = this.oplog.clock.current;
    if (this.#gossipFor !== current) {
      // Rebuilt only when the cluster time moved (replies only read it, BSON-serialized).
      const clusterTime = toTimestamp(current);
      this.#gossipFor = current;
      this.#gossip = {
        $clusterTime: { clusterTime, signature: { hash: ZERO_HASH_BINARY, keyId: Long.ZERO } },
        operationTime: clusterTime,
      };
    }
    return this.#gossip;
  }
}
