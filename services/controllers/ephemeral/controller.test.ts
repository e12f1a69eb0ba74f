import { describe, expect, it } from "vitest";
import type { PersistentVolumeClaim, PersistentVolumeClaimSpec, Pod } from "../../../libs/api/index.ts";
import { drainQueue, fakeControllerContext } from "../../../libs/client/fake-informers.ts";
import { persistentVolumeClaimsResource, podsResource } from "../common/resources.ts";
import { EphemeralVolumeController } from "./controller.ts";

const claimSpec: PersistentVolumeClaimSpec = { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, storageClassName: "local-path" };

function setup() {
  const fake = fakeControllerContext();
  const controller = new EphemeralVolumeController();
  controller.setup(fake.context);
  const run = () => drainQueue(fake.queue, (key) => controller.reconcile(key));
  const addPod = (name = "web-0") =>
    fake.client.seed<Pod>(podsResource, {
      metadata: { name, namespace: "shop" },
      spec: {
        containers: [{ name: "app", image: "nginx" }],
        volumes: [
          { name: "scratch", ephemeral: { volumeClaimTemplate: { metadata: { labels: { tier: "cache" }, annotations: { note: "tmp" } }, spec: claimSpec } } },
          { name: "config", emptyDir: {} },
        ],
      },
    });
  return { ...fake, controller, run, addPod };
}

describe("ephemeral volume controller", () => {
  it("creates <pod>-<volume> from the template, owned by the pod, and nothing for other volumes", async () => {
    const { client, run, addPod } = setup();
    const pod = addPod();
    await run();
    const claims = client.storedAll<PersistentVolumeClaim>(persistentVolumeClaimsResource);
    expect(claims.map((claim) => claim.metadata.name)).toEqual(["web-0-scratch"]);
    expect(claims[0]).toMatchObject({
      metadata: {
        namespace: "shop",
        labels: { tier: "cache" },
        annotations: { note: "tmp" },
        ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "web-0", uid: pod.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: claimSpec,
    });
  });

  it("a second reconcile writes nothing; a deleted claim is made again while the pod lives", async () => {
    const { client, controller, run, addPod } = setup();
    addPod();
    await run();
    client.clearWrites();
    await controller.reconcile("shop/web-0");
    expect(client.writes).toEqual([]);
    await client.delete(persistentVolumeClaimsResource, "shop", "web-0-scratch");
    await run();
    expect(client.stored(persistentVolumeClaimsResource, "shop", "web-0-scratch")).toBeDefined();
  });

  it("leaves a claim of that name it does not own alone and warns on the pod", async () => {
    const { client, events, run, addPod } = setup();
    client.seed<PersistentVolumeClaim>(persistentVolumeClaimsResource, { metadata: { name: "web-0-scratch", namespace: "shop" }, spec: { ...claimSpec, storageClassName: "manual" } });
    addPod();
    await run();
    expect(client.stored<PersistentVolumeClaim>(persistentVolumeClaimsResource, "shop", "web-0-scratch")?.spec?.storageClassName).toBe("manual");
    expect(events.events).toEqual([
      expect.objectContaining({ kind: "Pod", namespace: "shop", name: "web-0", type: "Warning", reason: "FailedBinding", message: "PVC shop/web-0-scratch was not created for pod shop/web-0 (pod is not owner)" }),
    ]);
  });

  it("creates nothing for a pod that is being deleted", async () => {
    const { client, run, addPod } = setup();
    addPod();
    client.mutate<Pod>(podsResource, "shop", "web-0", (pod) => ({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: "2026-11-22T00:00:00Z" } }));
    await run();
    expect(client.storedAll(persistentVolumeClaimsResource)).toEqual([]);
  });
});
