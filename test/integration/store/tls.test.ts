/** A 3-member cluster over https for clients and peers, with client certificates required. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeTestCertificates } from "../../harness/certs.ts";
import { run } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";
import { StoreCluster, storeImplementations, withoutScheme, type TlsMaterial } from "../../harness/store-cluster.ts";

describe.each(storeImplementations())("TLS on a %s cluster", (implementation) => {
  let cluster: StoreCluster;
  let certDir: string;
  let tls: TlsMaterial;

  beforeAll(async () => {
    certDir = mkdtempSync(join(tmpdir(), "flotilla-certs-"));
    tls = makeTestCertificates(certDir);
    cluster = await StoreCluster.start({ implementation, size: 3, tls });
  });
  afterAll(async () => {
    await cluster?.destroy();
    rmSync(certDir, { recursive: true, force: true });
  });

  it("serves etcdctl with a client certificate, replicating over TLS peer links", async () => {
    expect(cluster.members.every((member) => member.clientUrl.startsWith("https://"))).toBe(true);
    expect(await cluster.etcdctlOk(["put", "tls/k", "v"])).toBe("OK\n");
    // Each member, read locally (serializable), shows the write once its peer links delivered it.
    for (const member of cluster.members) {
      await waitFor(async () => ((await cluster.etcdctlOk(["get", "tls/k", "--print-value-only", "--consistency=s"], member.clientUrl)) === "v\n" ? true : undefined), {
        timeoutMs: 10_000,
        description: `${member.name} to hold the write`,
      });
    }
  });

  it("refuses a client without a certificate", async () => {
    const result = await run(
      "etcdctl",
      [`--endpoints=${withoutScheme(cluster.members[0]?.clientUrl ?? "")}`, `--cacert=${tls.caFile}`, "--dial-timeout=2s", "--command-timeout=3s", "get", "tls/k"],
      { timeoutMs: 15_000 },
    );
    expect(result.code).not.toBe(0);
  });
});
