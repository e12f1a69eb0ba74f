/**
 * The backend quota through etcdctl on a one-member cluster with a tiny --quota-backend-bytes:
 * writes past it are refused with a NOSPACE alarm, which keeps refusing writes (not deletes or
 * compaction) until it is disarmed. Runs against Flotilla and etcd.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreCluster, storeImplementations } from "../../harness/store-cluster.ts";

const quotaBytes = 256 * 1024;
const valueBytes = 16 * 1024;
/** Far more puts than the quota holds: the loop must hit the quota long before. */
const putsMax = 64;

describe.each(storeImplementations())("the backend quota on a one-member %s cluster", (implementation) => {
  let cluster: StoreCluster;

  beforeAll(async () => {
    cluster = await StoreCluster.start({ implementation, size: 1, extraFlags: [`--quota-backend-bytes=${quotaBytes}`] });
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it("refuses writes past the quota with a NOSPACE alarm until it is disarmed; deletes and compaction still work", async () => {
    const value = "x".repeat(valueBytes);
    let refusal: string | undefined;
    let accepted = 0;
    for (let i = 0; i < putsMax && refusal === undefined; i++) {
      const result = await cluster.etcdctl(["put", `big/${i}`, value]);
      if (result.code === 0) accepted += 1;
      else refusal = result.stderr;
    }
    expect(refusal).toContain("etcdserver: mvcc: database space exceeded");
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(quotaBytes / valueBytes);
    expect(await cluster.etcdctlOk(["alarm", "list"])).toMatch(/alarm:NOSPACE/);

    // Armed: even a small put is refused, while deletes and compaction go through.
    expect((await cluster.etcdctl(["put", "small", "v"])).stderr).toContain("database space exceeded");
    // etcd checks the quota again when it applies a put, and a put that crosses it there is stored
    // yet answered NOSPACE: so one more key than `accepted` may be present.
    const stored = (JSON.parse(await cluster.etcdctlOk(["get", "--prefix", "big/", "--keys-only", "-w", "json"])) as { count: number }).count;
    expect(stored === accepted || stored === accepted + 1).toBe(true);
    expect(await cluster.etcdctlOk(["del", "--prefix", "big/"])).toBe(`${stored}\n`);
    const revision = (JSON.parse(await cluster.etcdctlOk(["get", "small", "-w", "json"])) as { header: { revision: number } }).header.revision;
    await cluster.etcdctlOk(["compaction", String(revision)]);
    // etcd's file shrinks only when defragmented; Flotilla's size shrinks with the compaction.
    await cluster.etcdctlOk(["defrag"]);
    expect((await cluster.etcdctl(["put", "small", "v"])).stderr).toContain("database space exceeded");

    await cluster.etcdctlOk(["alarm", "disarm"]);
    expect(await cluster.etcdctlOk(["alarm", "list"])).toBe("");
    expect(await cluster.etcdctlOk(["put", "small", "v"])).toBe("OK\n");
  });
});
