/**
 * One etcd client per member, each pinned to that member's endpoint, so the workload decides
 * which member serves each request. After a restart a member gets a fresh client: gRPC's
 * reconnect backoff on the old channel would otherwise keep it out of the load for seconds.
 * Replaced clients stay open until the scenario ends, so calls already in flight on them finish.
 */
import { EtcdClient } from "../../libs/etcd-client/index.ts";
import type { LabMember } from "./lab-cluster.ts";

/** Bound on clients one scenario creates (a few per member per restart). */
export const poolClientsMax = 2000;

export class ClientPool {
  readonly #current = new Map<LabMember, EtcdClient>();
  readonly #all: EtcdClient[] = [];
  readonly #requestTimeoutMs: number;

  constructor(requestTimeoutMs: number) {
    this.#requestTimeoutMs = requestTimeoutMs;
  }

  clientFor(member: LabMember): EtcdClient {
    let client = this.#current.get(member);
    if (client === undefined) {
      if (this.#all.length >= poolClientsMax) throw new Error(`more than ${poolClientsMax} store clients in one scenario`);
      client = new EtcdClient({ endpoints: [member.clientUrl], requestTimeoutMs: this.#requestTimeoutMs });
      this.#current.set(member, client);
      this.#all.push(client);
    }
    return client;
  }

  /** The next clientFor(member) opens a new channel. */
  renew(member: LabMember): void {
    this.#current.delete(member);
  }

  closeAll(): void {
    for (const client of this.#all) client.close();
    this.#all.length = 0;
    this.#current.clear();
  }
}
