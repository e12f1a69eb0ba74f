/**
 * Which replica holds which node's stream connection, kept in the store so that any replica can
 * send a logs/exec/port-forward request to the one that has it. Each replica writes one key per
 * node it holds, `/flotilla/node-streams/<node>/<replica>`, whose value names the replica's API
 * URL, attached to an etcd lease of `recordTtlSeconds` that the replica renews every
 * `renewIntervalMs`: a replica that dies stops renewing, and the store drops its keys when the
 * lease runs out, so a dead replica's records vanish without anyone cleaning up after it.
 */
import type { EtcdClient } from "../../libs/etcd-client/index.ts";
import type { Logger } from "../../libs/log/index.ts";
import type { NodeStreamHub } from "./stream-hub.ts";

export const nodeStreamsPrefix = "/flotilla/node-streams/";
/** A dead replica's records outlive it by at most this long. */
export const recordTtlSeconds = 15;
/** Three renewals fit in one TTL, so one slow store round trip does not lose the lease. */
export const renewIntervalMs = 5_000;
/** Records one lookup reads for a node (one per replica, so a handful in practice). */
export const recordsPerNodeMax = 16;

/** One replica's claim to hold a node's stream connection. */
export interface SessionRecord {
  readonly nodeName: string;
  /** https://host:port of the replica's API server. */
  readonly apiUrl: string;
  /** The store revision that wrote it: larger is newer. */
  readonly revision: number;
}

/** The store operations the registry needs; `etcdRecordStore` is the real one. */
export interface RecordStore {
  grantLease(ttlSeconds: number): Promise<string>;
  /** False when the lease is gone (expired or revoked). */
  keepAlive(leaseId: string): Promise<boolean>;
  revokeLease(leaseId: string): Promise<void>;
  put(key: string, value: string, leaseId: string): Promise<void>;
  delete(key: string): Promise<void>;
  list(prefix: string, limit: number): Promise<Array<{ key: string; value: string; revision: number }>>;
}

export function etcdRecordStore(client: EtcdClient): RecordStore {
  return {
    grantLease: async (ttlSeconds) => String((await client.leaseGrant(ttlSeconds)).ID),
    keepAlive: async (leaseId) => Number((await client.leaseKeepAliveOnce(leaseId)).TTL) > 0,
    revokeLease: async (leaseId) => void (await client.leaseRevoke(leaseId)),
    put: async (key, value, leaseId) => void (await client.put({ key: Buffer.from(key), value: Buffer.from(value), lease: leaseId })),
    delete: async (key) => void (await client.deleteRange({ key: Buffer.from(key) })),
    list: async (prefix, limit) => {
      const response = await client.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix), limit });
      return response.kvs.map((kv) => ({ key: kv.key.toString(), value: kv.value.toString(), revision: Number(kv.mod_revision) }));
    },
  };
}

/** The smallest key after every key that starts with `prefix` (prefixes here are ASCII). */
function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  end[end.length - 1] = (end[end.length - 1] ?? 0) + 1;
  return end;
}

/** The key a replica's record of a node lives at; the replica part is its URL, escaped. */
export function recordKey(nodeName: string, apiUrl: string): string {
  return `${nodeStreamsPrefix}${encodeURIComponent(nodeName)}/${encodeURIComponent(apiUrl)}`;
}

/** Every replica's record of `nodeName`, newest first. */
export async function lookupRecords(store: RecordStore, nodeName: string): Promise<SessionRecord[]> {
  const listed = await store.list(`${nodeStreamsPrefix}${encodeURIComponent(nodeName)}/`, recordsPerNodeMax);
  const records: SessionRecord[] = [];
  for (const { value, revision } of listed) {
    const parsed = JSON.parse(value) as { apiUrl?: unknown };
    if (typeof parsed.apiUrl === "string") records.push({ nodeName, apiUrl: parsed.apiUrl, revision });
  }
  return records.sort((a, b) => b.revision - a.revision);
}

/**
 * Keeps this replica's records equal to its hub's connections. Changes mark a node dirty and one
 * sync at a time writes the dirty nodes (put when connected, delete when not), so a quick
 * disconnect-reconnect can never leave the writes in the wrong order.
 */
export class SessionRegistry {
  readonly #dirty = new Set<string>();
  /** Nodes whose last write failed: the next renewal writes them again. */
  readonly #failed = new Set<string>();
  #leaseId: string | undefined;
  #syncing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #stopped = false;

  constructor(
    readonly hub: NodeStreamHub,
    readonly store: RecordStore,
    readonly apiUrl: string,
    readonly logger: Logger,
  ) {}

  start(): void {
    this.#unsubscribe = this.hub.onConnectionChange((nodeName) => this.#mark([nodeName]));
    this.#mark(this.hub.connectedNodes());
    this.#timer = setInterval(() => void this.renew(), renewIntervalMs);
    this.#timer.unref();
  }

  /** Revokes the lease, which deletes every record of this replica at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    clearInterval(this.#timer);
    await this.#syncing;
    const leaseId = this.#leaseId;
    this.#leaseId = undefined;
    if (leaseId !== undefined) await this.store.revokeLease(leaseId).catch((error: unknown) => this.logger.warn({ err: error }, "revoke the node-streams lease"));
  }

  /** Renews the lease; a lost lease (the store dropped our records) is granted anew and every record rewritten. */
  async renew(): Promise<void> {
    const leaseId = this.#leaseId;
    if (this.#stopped) return;
    this.#mark([...this.#failed]);
    this.#failed.clear();
    if (leaseId === undefined) return;
    try {
      if (await this.store.keepAlive(leaseId)) return;
      this.logger.warn({ leaseId }, "the node-streams lease expired: writing every record again");
      if (this.#leaseId === leaseId) this.#leaseId = undefined;
      this.#mark(this.hub.connectedNodes());
    } catch (error) {
      this.logger.warn({ err: error }, "renew the node-streams lease");
    }
  }

  /** Resolves once every change seen so far is in the store (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.#syncing !== undefined) await this.#syncing;
  }

  #mark(nodeNames: readonly string[]): void {
    for (const nodeName of nodeNames) this.#dirty.add(nodeName);
    this.#kick();
  }

  /** Starts a sync unless one runs; a node marked while the last one was finishing starts the next. */
  #kick(): void {
    if (this.#syncing !== undefined || this.#stopped || this.#dirty.size === 0) return;
    this.#syncing = this.#sync().finally(() => {
      this.#syncing = undefined;
      this.#kick();
    });
  }

  async #sync(): Promise<void> {
    while (this.#dirty.size > 0 && !this.#stopped) {
      const nodeName = this.#dirty.values().next().value as string;
      this.#dirty.delete(nodeName);
      try {
        await this.#write(nodeName);
      } catch (error) {
        // The next renewal writes it again; meanwhile a missing or stale record only costs a retry elsewhere.
        this.#failed.add(nodeName);
        this.logger.warn({ err: error, node: nodeName }, "record the node's stream connection in the store");
      }
    }
  }

  async #write(nodeName: string): Promise<void> {
    const key = recordKey(nodeName, this.apiUrl);
    if (!this.hub.isConnected(nodeName)) {
      await this.store.delete(key);
      return;
    }
    this.#leaseId ??= await this.store.grantLease(recordTtlSeconds);
    await this.store.put(key, JSON.stringify({ apiUrl: this.apiUrl }), this.#leaseId);
  }
}
