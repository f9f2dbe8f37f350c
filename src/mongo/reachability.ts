import type { MongoClient, ServerDescriptionChangedEvent, TopologyDescription, TopologyDescriptionChangedEvent } from "mongodb";
import type { Observations } from "../observability/observations.ts";

// Server types a write can go to.
const WRITABLE = new Set(["RSPrimary", "Mongos", "Standalone", "LoadBalancer"]);
// Server types that hold the data: a change stream can read from any of them.
const DATA_BEARING = new Set([...WRITABLE, "RSSecondary"]);

/**
 * What the driver's own monitoring (SDAM events) knows of the deployment: whether any member
 * answers, and whether one of them takes writes. A killed or unreachable MongoDB shows here as
 * soon as the monitor's connection fails; a paused one only after the monitor's timeout, which
 * is why readiness also watches the change stream. An election shows as a primary lost, then a
 * new one (another member, or the same with a new electionId), both observed.
 */
export class MongoReachability {
  #reachable = true; // the client was connected to a primary before this was built
  #hasPrimary = true;
  #problem: string | undefined;
  /** The primary last seen, as "address electionId", to tell a new election from a rediscovery. */
  #primary: string | undefined;
  #primaryLostAt: number | undefined;
  readonly #stop: () => void;
  readonly #onNewPrimary: () => void;

  constructor(
    client: MongoClient,
    observations: Observations,
    onChange: () => void,
    /** A new primary was elected (not the first one discovered). */
    onNewPrimary: () => void = () => {},
  ) {
    this.#onNewPrimary = onNewPrimary;
    const topologyChanged = (event: TopologyDescriptionChangedEvent) => {
      const servers = [...event.newDescription.servers.values()];
      const reachable = servers.some((server) => DATA_BEARING.has(server.type));
      const hasPrimary = servers.some((server) => WRITABLE.has(server.type));
      this.#notePrimary(event.newDescription, hasPrimary, observations);
      if (reachable === this.#reachable && hasPrimary === this.#hasPrimary) return;
      this.#reachable = reachable;
      this.#hasPrimary = hasPrimary;
      if (hasPrimary) this.#problem = undefined;
      onChange();
    };
    const serverChanged = (event: ServerDescriptionChangedEvent) => {
      const error = event.newDescription.error;
      if (error) this.#problem = `${event.address}: ${error.message}`;
    };
    client.on("serverDescriptionChanged", serverChanged); // first, so the problem is known when the topology changes
    client.on("topologyDescriptionChanged", topologyChanged);
    this.#stop = () => {
      client.off("serverDescriptionChanged", serverChanged);
      client.off("topologyDescriptionChanged", topologyChanged);
    };
  }

  /** Some member answers: reads, and a change stream on a secondary, can go on. */
  get reachable(): boolean {
    return this.#reachable;
  }

  /** Some member takes writes (a replica set's primary, a mongos). */
  get hasPrimary(): boolean {
    return this.#hasPrimary;
  }

  /** What the driver last reported (with addresses: for the log, never for a response). */
  get problem(): string | undefined {
    return this.#problem;
  }

  close(): void {
    this.#stop();
  }

  #notePrimary(topology: TopologyDescription, hasPrimary: boolean, observations: Observations): void {
    if (!hasPrimary) {
      if (this.#primaryLostAt !== undefined) return;
      this.#primaryLostAt = performance.now();
      observations.emit({ type: "primary-lost", previous: this.#primary?.split(" ")[0] });
      return;
    }
    const primary = [...topology.servers.values()].find((server) => WRITABLE.has(server.type));
    if (!primary) return;
    const seen = `${primary.address} ${primary.electionId?.toHexString() ?? ""}`;
    const lostAt = this.#primaryLostAt;
    if (seen === this.#primary && lostAt === undefined) return;
    const previous = this.#primary;
    this.#primary = seen;
    this.#primaryLostAt = undefined;
    // The first primary this process sees is a discovery, not an election.
    if (previous === undefined && lostAt === undefined) return;
    observations.emit({
      type: "primary-elected",
      primary: primary.address,
      withoutPrimaryMs: lostAt === undefined ? 0 : performance.now() - lostAt,
    });
    this.#onNewPrimary();
  }
}
