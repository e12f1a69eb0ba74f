import { describe, expect, it } from "vitest";
import type { PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from "../../../libs/api/index.ts";
import { drainQueue, fakeControllerContext } from "../../../libs/client/fake-informers.ts";
import { persistentVolumeClaimsResource, persistentVolumesResource, podsResource, storageClassesResource } from "../common/resources.ts";
import { LocalPathProvisioner } from "./controller.ts";

function setup() {
  const fake = fakeControllerContext();
  const claim = fake.client.seed<PersistentVolumeClaim>(persistentVolumeClaimsResource, {
    metadata: { name: "data-db-0", namespace: "default" },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "2Gi" } } },
  });
  const controller = new LocalPathProvisioner();
  controller.setup(fake.context);
  const run = () => drainQueue(fake.queue, (key) => controller.reconcile(key));
  const addPod = (nodeName?: string) =>
    fake.client.seed<Pod>(podsResource, {
      metadata: { name: "db-0", namespace: "default" },
      spec: { ...(nodeName === undefined ? {} : { nodeName }), containers: [{ name: "db", image: "postgres" }], volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data-db-0" } }] },
    });
  return { ...fake, claim, controller, run, addPod };
}

describe("local-path provisioner", () => {
  it("keeps the default local-path StorageClass, WaitForFirstConsumer", async () => {
    const { client, run } = setup();
    await run();
    const storageClass = client.stored<StorageClass>(storageClassesResource, undefined, "local-path");
    expect(storageClass).toMatchObject({ volumeBindingMode: "WaitForFirstConsumer", reclaimPolicy: "Delete", metadata: { annotations: { "storageclass.kubernetes.io/is-default-class": "true" } } });
  });

  it("waits for a pod on a node, then binds the claim to a hostPath volume pinned to that node", async () => {
    const { client, run, addPod, claim } = setup();
    addPod();
    await run();
    expect(client.storedAll(persistentVolumesResource)).toEqual([]);
    client.mutate<Pod>(podsResource, "default", "db-0", (pod) => ({ ...pod, spec: { ...pod.spec!, nodeName: "node-b" } }));
    await run();
    const volume = client.stored<PersistentVolume>(persistentVolumesResource, undefined, `pvc-${claim.metadata.uid ?? ""}`)!;
    expect(volume.spec?.hostPath?.path).toBe(`/var/lib/flotilla/storage/pvc-${claim.metadata.uid ?? ""}_default_data-db-0`);
    expect(volume.spec?.capacity).toEqual({ storage: "2Gi" });
    expect(volume.spec?.nodeAffinity?.required?.nodeSelectorTerms[0]?.matchExpressions).toEqual([{ key: "kubernetes.io/hostname", operator: "In", values: ["node-b"] }]);
    expect(volume.status?.phase).toBe("Bound");
    const bound = client.stored<PersistentVolumeClaim>(persistentVolumeClaimsResource, "default", "data-db-0")!;
    expect(bound.spec?.volumeName).toBe(volume.metadata.name);
    expect(bound.status?.phase).toBe("Bound");
    expect(bound.metadata.annotations?.["volume.kubernetes.io/selected-node"]).toBe("node-b");
  });

  it("provisions an ephemeral volume's claim <pod>-<volume> once its pod is on a node", async () => {
    const { client, run } = setup();
    const claim = client.seed<PersistentVolumeClaim>(persistentVolumeClaimsResource, {
      metadata: { name: "web-scratch", namespace: "default" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    });
    client.seed<Pod>(podsResource, {
      metadata: { name: "web", namespace: "default" },
      spec: { nodeName: "node-c", containers: [{ name: "app", image: "nginx" }], volumes: [{ name: "scratch", ephemeral: { volumeClaimTemplate: { spec: claim.spec! } } }] },
    });
    await run();
    expect(client.stored<PersistentVolumeClaim>(persistentVolumeClaimsResource, "default", "web-scratch")?.spec?.volumeName).toBe(`pvc-${claim.metadata.uid ?? ""}`);
  });

  it("a second reconcile of a bound claim writes nothing; deleting the claim deletes its volume", async () => {
    const { client, controller, run, addPod, claim } = setup();
    addPod("node-a");
    await run();
    client.clearWrites();
    await controller.reconcile("claim:default/data-db-0");
    await controller.reconcile("class");
    expect(client.writes).toEqual([]);
    await client.delete(persistentVolumeClaimsResource, "default", "data-db-0");
    await run();
    expect(client.stored(persistentVolumesResource, undefined, `pvc-${claim.metadata.uid ?? ""}`)).toBeUndefined();
  });
});
