import { describe, expect, it } from "vitest";
import type { PersistentVolumeClaim, Pod, StatefulSet } from "../../../libs/api/index.ts";
import { persistentVolumeClaimsResource, podsResource, statefulSetsResource } from "../common/resources.ts";
import { FakeControllers, template } from "../common/testing.ts";
import { StatefulSetController } from "./controller.ts";

function statefulSet(replicas: number, extra: Partial<NonNullable<StatefulSet["spec"]>> = {}): StatefulSet {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "web", namespace: "default" },
    spec: {
      replicas,
      serviceName: "nginx",
      selector: { matchLabels: { app: "web" } },
      template: template({ app: "web" }),
      volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
      ...extra,
    },
  };
}

function setup(initial: StatefulSet) {
  const controllers = new FakeControllers();
  const { client } = controllers.fake;
  client.seed(statefulSetsResource, initial);
  const controller = controllers.add(new StatefulSetController());
  const podNames = () => client.storedAll<Pod>(podsResource).map((pod) => pod.metadata.name ?? "");
  const claimNames = () => client.storedAll<PersistentVolumeClaim>(persistentVolumeClaimsResource).map((claim) => claim.metadata.name ?? "");
  const read = () => client.stored<StatefulSet>(statefulSetsResource, "default", "web")!;
  const change = (edit: (spec: NonNullable<StatefulSet["spec"]>) => void) =>
    client.mutate<StatefulSet>(statefulSetsResource, "default", "web", (current) => {
      edit(current.spec!);
      return { ...current, metadata: { ...current.metadata, generation: (current.metadata.generation ?? 1) + 1 } };
    });
  return { controllers, client, controller, podNames, claimNames, read, change };
}

describe("StatefulSet controller", () => {
  it("starts web-0, web-1, web-2 in order, each once the one before is ready, with stable hostnames and claims", async () => {
    const { controllers, client, podNames, claimNames, read } = setup(statefulSet(3));
    await controllers.settle();
    expect(podNames()).toEqual(["web-0"]);
    controllers.markPodsReady();
    await controllers.settle();
    expect(podNames()).toEqual(["web-0", "web-1"]);
    controllers.markPodsReady();
    await controllers.settle();
    controllers.markPodsReady();
    await controllers.settle();
    expect(podNames()).toEqual(["web-0", "web-1", "web-2"]);
    controllers.markPodsReady();
    await controllers.settle();
    expect(claimNames()).toEqual(["data-web-0", "data-web-1", "data-web-2"]);
    const pod = client.stored<Pod>(podsResource, "default", "web-1")!;
    expect(pod.spec?.hostname).toBe("web-1");
    expect(pod.spec?.subdomain).toBe("nginx");
    expect(pod.spec?.volumes).toEqual([{ name: "data", persistentVolumeClaim: { claimName: "data-web-1" } }]);
    expect(pod.metadata.labels?.["statefulset.kubernetes.io/pod-name"]).toBe("web-1");
    expect(pod.metadata.labels?.["apps.kubernetes.io/pod-index"]).toBe("1");
    const status = read().status;
    expect(status).toMatchObject({ replicas: 3, readyReplicas: 3, updatedReplicas: 3, currentReplicas: 3, availableReplicas: 3 });
    expect(status?.currentRevision).toBe(status?.updateRevision);
  });

  it("a second reconcile of a converged StatefulSet writes nothing", async () => {
    const { controllers, client, controller } = setup(statefulSet(2));
    for (let round = 0; round < 3; round++) {
      await controllers.settle();
      controllers.markPodsReady();
    }
    await controllers.settle();
    client.clearWrites();
    await controller.reconcile("default/web");
    expect(client.writes).toEqual([]);
  });

  it("scales down from the highest ordinal keeping the claims, and reuses them on scale-up", async () => {
    const { controllers, client, podNames, claimNames, change } = setup(statefulSet(3));
    for (let round = 0; round < 4; round++) {
      await controllers.settle();
      controllers.markPodsReady();
    }
    change((spec) => (spec.replicas = 1));
    await controllers.settle();
    expect(podNames()).toEqual(["web-0"]);
    const deletes = client.writes.filter((write) => write.verb === "delete").map((write) => write.name);
    expect(deletes).toEqual(["web-2", "web-1"]);
    expect(claimNames()).toEqual(["data-web-0", "data-web-1", "data-web-2"]);
    client.clearWrites();
    change((spec) => (spec.replicas = 3));
    for (let round = 0; round < 3; round++) {
      await controllers.settle();
      controllers.markPodsReady();
    }
    expect(podNames()).toEqual(["web-0", "web-1", "web-2"]);
    expect(client.writes.filter((write) => write.resource === "persistentvolumeclaims")).toEqual([]);
  });

  it("rolls a new template out in reverse ordinal order, stopping at the partition", async () => {
    const { controllers, client, read, change } = setup(statefulSet(3, { updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } } }));
    for (let round = 0; round < 4; round++) {
      await controllers.settle();
      controllers.markPodsReady();
    }
    const before = read().status?.currentRevision;
    client.clearWrites();
    change((spec) => (spec.template = template({ app: "web" }, "nginx:2")));
    for (let round = 0; round < 4; round++) {
      await controllers.settle();
      controllers.markPodsReady();
    }
    const deletes = client.writes.filter((write) => write.verb === "delete").map((write) => write.name);
    expect(deletes).toEqual(["web-2", "web-1"]);
    const images = ["web-0", "web-1", "web-2"].map((name) => client.stored<Pod>(podsResource, "default", name)?.spec?.containers[0]?.image);
    expect(images).toEqual(["nginx:1", "nginx:2", "nginx:2"]);
    const status = read().status;
    expect(status?.currentRevision).toBe(before);
    expect(status?.updatedReplicas).toBe(2);
    expect(status?.updateRevision).not.toBe(before);
  });

  it("Parallel creates every pod at once", async () => {
    const { controllers, podNames } = setup(statefulSet(3, { podManagementPolicy: "Parallel" }));
    await controllers.settle();
    expect(podNames()).toEqual(["web-0", "web-1", "web-2"]);
  });
});
