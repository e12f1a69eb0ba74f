/**
 * Programmatic clients against one member: Flotilla's own EtcdClient (used by the API server,
 * chaos tests and benchmarks) and the `etcd3` npm client, each against Flotilla and etcd.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Etcd3 } from "etcd3";
import { EtcdClient, prefixEnd } from "../../../libs/etcd-client/index.ts";
import { StoreCluster, storeImplementations } from "../../harness/store-cluster.ts";

describe.each(storeImplementations())("clients against a %s member", (implementation) => {
  let cluster: StoreCluster;
  let client: EtcdClient;

  beforeAll(async () => {
    cluster = await StoreCluster.start({ implementation, size: 1 });
    client = new EtcdClient({ endpoints: cluster.members.map((member) => member.clientUrl) });
  });
  afterAll(async () => {
    client?.close();
    await cluster?.destroy();
  });

  it("EtcdClient puts, reads a prefix, and runs a compare-and-set txn", async () => {
    const first = await client.put({ key: Buffer.from("c/a"), value: Buffer.from("1") });
    await client.put({ key: Buffer.from("c/b"), value: Buffer.from("2") });
    const range = await client.range({ key: Buffer.from("c/"), range_end: prefixEnd("c/") });
    expect(range.kvs.map((kv) => kv.key.toString())).toEqual(["c/a", "c/b"]);
    expect(Number(range.header?.revision)).toBe(Number(first.header?.revision) + 1);

    const cas = (expected: string, next: string) =>
      client.txn({
        compare: [{ key: Buffer.from("c/a"), target: "VALUE", result: "EQUAL", value: Buffer.from(expected) }],
        success: [{ request_put: { key: Buffer.from("c/a"), value: Buffer.from(next) } }],
        failure: [{ request_range: { key: Buffer.from("c/a") } }],
      });
    expect((await cas("1", "3")).succeeded).toBe(true);
    const failed = await cas("1", "4");
    expect(failed.succeeded).toBe(false);
    expect(failed.responses[0]?.response_range?.kvs[0]?.value.toString()).toBe("3");
  });

  it("refuses bad requests with etcd's errors and stores nothing", async () => {
    const refusal = async (attempt: Promise<unknown>): Promise<string> =>
      attempt.then(
        () => "accepted",
        (error: unknown) => (error as { details?: string }).details ?? String(error),
      );
    const before = await client.range({ key: Buffer.from("bad/"), range_end: prefixEnd("bad/"), count_only: true });
    expect(await refusal(client.put({ key: Buffer.from(""), value: Buffer.from("v") }))).toBe("etcdserver: key is not provided");
    expect(await refusal(client.put({ key: Buffer.from("bad/big"), value: Buffer.alloc(1_600_000, 0x61) }))).toBe("etcdserver: request is too large");
    const ops = Array.from({ length: 129 }, (_, i) => ({ request_put: { key: Buffer.from(`bad/${i}`), value: Buffer.from("v") } }));
    expect(await refusal(client.txn({ success: ops }))).toBe("etcdserver: too many operations in txn request");
    const duplicate = [0, 1].map(() => ({ request_put: { key: Buffer.from("bad/dup"), value: Buffer.from("v") } }));
    expect(await refusal(client.txn({ success: duplicate }))).toBe("etcdserver: duplicate key given in txn request");
    const after = await client.range({ key: Buffer.from("bad/"), range_end: prefixEnd("bad/"), count_only: true });
    expect(after.count).toBe(before.count);
    expect(after.header?.revision).toBe(before.header?.revision);
  });

  it("EtcdClient watches from a revision and sees puts and deletes in order", async () => {
    const start = await client.put({ key: Buffer.from("w/x"), value: Buffer.from("a") });
    await client.deleteRange({ key: Buffer.from("w/x") });
    const watch = client.watch({ key: Buffer.from("w/"), range_end: prefixEnd("w/"), start_revision: start.header?.revision ?? "0" });
    const seen: string[] = [];
    for await (const response of watch) {
      for (const event of response.events) seen.push(`${event.type} ${event.kv?.key.toString()} ${event.kv?.mod_revision}`);
      if (seen.length >= 2) break;
    }
    watch.cancel();
    const revision = Number(start.header?.revision);
    expect(seen).toEqual([`PUT w/x ${revision}`, `DELETE w/x ${revision + 1}`]);
  });

  it("the etcd3 npm client puts, gets, leases and watches", async () => {
    const etcd3 = new Etcd3({ hosts: cluster.members.map((member) => member.clientUrl) });
    try {
      await etcd3.put("e3/key").value("hello");
      expect(await etcd3.get("e3/key").string()).toBe("hello");
      const lease = etcd3.lease(30, { autoKeepAlive: false });
      await lease.put("e3/leased").value("v");
      expect(await etcd3.get("e3/leased").string()).toBe("v");
      await lease.revoke();
      expect(await etcd3.get("e3/leased").string()).toBeNull();
      const watcher = await etcd3.watch().prefix("e3/").create();
      const changed = new Promise<string>((resolve) => watcher.on("put", (kv) => resolve(kv.value.toString())));
      await etcd3.put("e3/key").value("again");
      expect(await changed).toBe("again");
      await watcher.cancel();
    } finally {
      etcd3.close();
    }
  });
});
