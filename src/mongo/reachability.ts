import type { MongoClient, ServerDescriptionChangedEvent, TopologyDescriptionChangedEvent } from "mongodb";

// Server types a write can go to.
const WRITABLE = new Set(["RSPrimary", "Mongos", "Standalone", "LoadBalancer"]);

/**
 * Whether the driver's own monitoring (SDAM events) knows a server it can write to. A killed
 * or unreachable MongoDB shows here as soon as the monitor's connection fails; a paused one
 * only after the monitor's timeout, which is why readiness also watches the change stream.
 */
export class MongoReachability {
  #reachable = true; // the client was connected to a primary before this was built
  #problem: string | undefined;
  readonly #stop: () => void;

  constructor(client: MongoClient, onChange: () => void) {
    const topologyChanged = (event: TopologyDescriptionChangedEvent) => {
      const reachable = [...event.newDescription.servers.values()].some((server) => WRITABLE.has(server.type));
      if (reachable === this.#reachable) return;
      this.#reachable = reachable;
      if (reachable) this.#problem = undefined;
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

  get reachable(): boolean {
    return this.#reachable;
  }

  /** What the driver last reported (with addresses: for the log, never for a response). */
  get problem(): string | undefined {
    return this.#problem;
  }

  close(): void {
    this.#stop();
  }
}
