import { describe, expect, it } from "vitest";
import { createLogger } from "../../libs/log/index.ts";
import { SessionRegistry, lookupRecords, recordKey, recordTtlSeconds, type RecordStore } from "./session-registry.ts";
import { NodeStreamHub } from "./stream-hub.ts";

const logger = createLogger("session-registry-test", { level: "silent" });
const link = { write: () => undefined };

/** An in-memory store with leases: expire() drops a lease and its keys, as the store does at its TTL. */
class FakeStore implements RecordStore {
  readonly keys = new Map<string, { value: string; leaseId: string; revision: number }>();
  readonly leases = new Map<string, number>();
  revision = 0;
  nextLease = 1;

  async grantLease(ttlSeconds: number): Promise<string> {
    const id = String(this.nextLease++);
    this.leases.set(id, ttlSeconds);
    return Promise.resolve(id);
  }
  async keepAlive(leaseId: string): Promise<boolean> {
    return Promise.resolve(this.leases.has(leaseId));
  }
  async revokeLease(leaseId: string): Promise<void> {
    this.expire(leaseId);
    return Promise.resolve();
  }
  async put(key: string, value: string, leaseId: string): Promise<void> {
    if (!this.leases.has(leaseId)) throw new Error("requested lease not found");
    this.keys.set(key, { value, leaseId, revision: ++this.revision });
    return Promise.resolve();
  }
  async delete(key: string): Promise<void> {
    this.keys.delete(key);
    return Promise.resolve();
  }
  async list(prefix: string, limit: number): Promise<Array<{ key: string; value: string; revision: number }>> {
    const found = [...this.keys].filter(([key]) => key.startsWith(prefix)).map(([key, { value, revision }]) => ({ key, value, revision }));
    return Promise.resolve(found.slice(0, limit));
  }
  expire(leaseId: string): void {
    this.leases.delete(leaseId);
    for (const [key, record] of this.keys) if (record.leaseId === leaseId) this.keys.delete(key);
  }
}

describe("SessionRegistry", () => {
  it("records a connected node under a lease of recordTtlSeconds and deletes the record when the node goes", async () => {
    const hub = new NodeStreamHub();
    const store = new FakeStore();
    const registry = new SessionRegistry(hub, store, "https://10.0.0.1:6443", logger);
    registry.start();
    const attached = hub.attach("node-a", link);
    await registry.settled();
    const record = store.keys.get(recordKey("node-a", "https://10.0.0.1:6443"));
    expect(record?.value).toBe(JSON.stringify({ apiUrl: "https://10.0.0.1:6443" }));
    expect(store.leases.get(record?.leaseId ?? "")).toBe(recordTtlSeconds);
    attached.detach("gone");
    await registry.settled();
    expect(store.keys.size).toBe(0);
    await registry.stop();
  });

  it("records the nodes already connected when it starts, and revokes its lease (every record) on stop", async () => {
    const hub = new NodeStreamHub();
    hub.attach("node-a", link);
    hub.attach("node-b", link);
    const store = new FakeStore();
    const registry = new SessionRegistry(hub, store, "https://r1:6443", logger);
    registry.start();
    await registry.settled();
    expect(store.keys.size).toBe(2);
    await registry.stop();
    expect(store.keys.size).toBe(0);
    expect(store.leases.size).toBe(0);
  });

  it("writes every record again under a new lease when the store has let the old one expire", async () => {
    const hub = new NodeStreamHub();
    hub.attach("node-a", link);
    const store = new FakeStore();
    const registry = new SessionRegistry(hub, store, "https://r1:6443", logger);
    registry.start();
    await registry.settled();
    const firstLease = store.keys.get(recordKey("node-a", "https://r1:6443"))?.leaseId;
    store.expire(firstLease ?? "");
    expect(store.keys.size).toBe(0);
    await registry.renew();
    await registry.settled();
    const rewritten = store.keys.get(recordKey("node-a", "https://r1:6443"));
    expect(rewritten?.leaseId).not.toBe(firstLease);
    expect(store.leases.has(rewritten?.leaseId ?? "")).toBe(true);
    await registry.stop();
  });

  it("lookupRecords lists every replica's record of one node, newest first, and no other node's", async () => {
    const store = new FakeStore();
    const lease = await store.grantLease(recordTtlSeconds);
    await store.put(recordKey("node-a", "https://r1:6443"), JSON.stringify({ apiUrl: "https://r1:6443" }), lease);
    await store.put(recordKey("node-ab", "https://r3:6443"), JSON.stringify({ apiUrl: "https://r3:6443" }), lease);
    await store.put(recordKey("node-a", "https://r2:6443"), JSON.stringify({ apiUrl: "https://r2:6443" }), lease);
    const records = await lookupRecords(store, "node-a");
    expect(records.map((record) => record.apiUrl)).toEqual(["https://r2:6443", "https://r1:6443"]);
  });
});
