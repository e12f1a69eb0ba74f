/**
 * Volume node affinity in a real `flotilla server` (scheduler and controllers elected inside, two
 * nodes node-a and node-b run by the fake kubelet): a pod whose claim is bound to a PV pinned to
 * node-b is placed on node-b; a local-path claim's pods follow the PV the provisioner pinned to
 * the first consumer's node (the recreated-StatefulSet-pod case); an unbound claim of no class
 * ("") holds its pod with upstream's message. One server for the file.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findResource, type PersistentVolume, type PersistentVolumeClaim, type Pod } from "../../../libs/api/index.ts";
import type { HttpApiClient } from "../../../libs/client/index.ts";
import { ControlPlaneServer } from "../../harness/controlplane-server.ts";
import { waitFor } from "../../harness/wait.ts";

const settleTimeoutMs = 30_000;
const pods = findResource("", "v1", "pods")!;
const claims = findResource("", "v1", "persistentvolumeclaims")!;
const volumes = findResource("", "v1", "persistentvolumes")!;

function podUsing(name: string, claimName: string): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels: { claim: claimName } },
    spec: { containers: [{ name: "app", image: "nginx:1" }], volumes: [{ name: "data", persistentVolumeClaim: { claimName } }] },
  };
}

function claimOf(name: string, spec: NonNullable<PersistentVolumeClaim["spec"]>): PersistentVolumeClaim {
  return { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name, namespace: "default" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, ...spec } };
}

describe("scheduler volume node affinity in flotilla server", () => {
  let server: ControlPlaneServer;
  let client: HttpApiClient;

  async function nodesOf(claimName: string, count: number): Promise<string[]> {
    return await waitFor(
      async () => {
        const placed = (await server.podsWith(`claim=${claimName}`)).map((pod) => pod.spec?.nodeName ?? "");
        return placed.length === count && placed.every((nodeName) => nodeName !== "") ? placed : undefined;
      },
      { timeoutMs: settleTimeoutMs, intervalMs: 200, description: `${String(count)} pods of claim ${claimName} bound` },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n--- server log ---\n${server.serverLog()}`);
    });
  }

  beforeAll(async () => {
    server = await ControlPlaneServer.start("scheduler-volumes");
    client = server.client;
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("places every pod whose claim is bound to a PV pinned to node-b on node-b", async () => {
    const pinned: PersistentVolume = {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "pv-pinned-b" },
      spec: {
        capacity: { storage: "1Gi" },
        accessModes: ["ReadWriteOnce"],
        hostPath: { path: "/tmp/pv-pinned-b" },
        persistentVolumeReclaimPolicy: "Retain",
        storageClassName: "manual",
        claimRef: { kind: "PersistentVolumeClaim", apiVersion: "v1", namespace: "default", name: "pinned" },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["node-b"] }] }] } },
      },
    };
    await client.create(volumes, pinned);
    await client.create(claims, claimOf("pinned", { storageClassName: "manual", volumeName: "pv-pinned-b" }));
    for (let index = 0; index < 6; index++) await client.create(pods, podUsing(`pinned-${String(index)}`, "pinned"));
    expect(new Set(await nodesOf("pinned", 6))).toEqual(new Set(["node-b"]));
  });

  it("sends the later pods of a local-path claim to the node its PV was provisioned on", async () => {
    await client.create(claims, claimOf("cache", {}));
    await client.create(pods, podUsing("cache-0", "cache"));
    const [first = ""] = await nodesOf("cache", 1);
    const pinnedTo = await waitFor(
      async () => {
        const claim = await client.get<PersistentVolumeClaim>(claims, "default", "cache");
        const volumeName = claim.spec?.volumeName ?? "";
        if (volumeName === "") return undefined;
        const volume = await client.get<PersistentVolume>(volumes, undefined, volumeName);
        return volume.spec?.nodeAffinity?.required?.nodeSelectorTerms[0]?.matchExpressions?.[0]?.values?.[0];
      },
      { timeoutMs: settleTimeoutMs, intervalMs: 200, description: "the local-path provisioner to bind claim cache" },
    );
    expect(pinnedTo).toBe(first);
    await client.delete(pods, "default", "cache-0");
    for (let index = 1; index <= 5; index++) await client.create(pods, podUsing(`cache-${String(index)}`, "cache"));
    expect(new Set(await nodesOf("cache", 5))).toEqual(new Set([first]));
  });

  it("holds a pod whose claim of no class is unbound with upstream's message", async () => {
    await client.create(claims, claimOf("unbound", { storageClassName: "" }));
    await client.create(pods, podUsing("unbound-0", "unbound"));
    const condition = await waitFor(
      async () => (await client.get<Pod>(pods, "default", "unbound-0")).status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False"),
      { timeoutMs: settleTimeoutMs, intervalMs: 200, description: "PodScheduled=False on unbound-0" },
    );
    expect(condition.message).toMatch(/^0\/2 nodes are available: pod has unbound immediate PersistentVolumeClaims\./);
    expect((await client.get<Pod>(pods, "default", "unbound-0")).spec?.nodeName ?? "").toBe("");
  });
});
