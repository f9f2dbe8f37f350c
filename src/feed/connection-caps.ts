export type ConnectionCapLimits = { total: number; perAddress: number };

/** Which cap a new connection would pass, if any. */
export type CapReached = "total" | "per-address";

/**
 * Counts WebSocket connections in total and per client address, so one client can never
 * fill the process's descriptor table. A slot is held from the accepted upgrade until the
 * socket's close callback: a socket that is refused or closing still holds a descriptor.
 */
export class ConnectionCaps {
  #total = 0;
  readonly #byAddress = new Map<string, number>();

  constructor(readonly limits: ConnectionCapLimits) {}

  get total(): number {
    return this.#total;
  }

  /** Takes a slot for a connection from `address`, or says which cap it would pass (taking nothing). */
  claim(address: string): CapReached | undefined {
    const fromAddress = this.#byAddress.get(address) ?? 0;
    if (this.#total >= this.limits.total) return "total";
    if (fromAddress >= this.limits.perAddress) return "per-address";
    this.#total++;
    this.#byAddress.set(address, fromAddress + 1);
    return undefined;
  }

  /** Gives back a slot taken by `claim`. */
  release(address: string): void {
    const fromAddress = this.#byAddress.get(address) ?? 0;
    if (fromAddress === 0) return;
    this.#total--;
    if (fromAddress === 1) this.#byAddress.delete(address);
    else this.#byAddress.set(address, fromAddress - 1);
  }
}
