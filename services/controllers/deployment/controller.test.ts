import { describe, expect, it } from "vitest";
import type { Deployment, Pod, ReplicaSet } from "../../../libs/api/index.ts";
import { isPodActive, isPodReady } from "../common/pods.ts";
import { deploymentsResource, podsResource, replicaSetsResource } from "../common/resources.ts";
import { FakeControllers, template } from "../common/testing.ts";
import { ReplicaSetController } from "../replicaset/controller.ts";
import { DeploymentController } from "./controller.ts";
import { computeHash } from "./util.ts";

function deployment(name: string, replicas: number, extra: Partial<NonNullable<Deployment["spec"]>> = {}): Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "default" },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: template({ app: name }),
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      ...extra,
    },
  };
}

function cluster(initial: Deployment) {
  const controllers = new FakeControllers();
  const { client } = controllers.fake;
  const seeded = client.seed(deploymentsResource, initial);
  const deployments = controllers.add(new DeploymentController());
  controllers.add(new ReplicaSetController());
  const read = () => client.stored<Deployment>(deploymentsResource, "default", initial.metadata.name ?? "")!;
  const replicaSets = () => client.storedAll<ReplicaSet>(replicaSetsResource, "default");
  const pods = () => client.storedAll<Pod>(podsResource, "default").filter(isPodActive);
  /** Settle, make the agent's pods ready, repeat until nothing changes (bounded). */
  const converge = async (check: () => void = () => {}) => {
    for (let round = 0; round < 50; round++) {
      await controllers.settle(check);
      const before = client.revision;
      controllers.markPodsReady();
      if (client.revision === before) return;
    }
    throw new Error("did not converge");
  };
  const update = (change: (current: Deployment) => Deployment) => client.mutate<Deployment>(deploymentsResource, "default", initial.metadata.name ?? "", (current) => {
    const next = change(current);
    next.metadata.generation = (current.metadata.generation ?? 1) + 1;
    return next;
  });
  return { controllers, client, seeded, deployments, read, replicaSets, pods, converge, update };
}

describe("Deployment controller", () => {
  it("creates a ReplicaSet named with the pod-template-hash, revision 1, and reports a complete rollout", async () => {
    const { client, seeded, read, replicaSets, pods, converge, controllers } = cluster(deployment("web", 3));
    await controllers.settle();
    const hash = computeHash(seeded.spec!.template, undefined);
    const [rs] = replicaSets();
    expect(rs?.metadata.name).toBe(`web-${hash}`);
    expect(rs?.metadata.annotations).toEqual({
      "deployment.kubernetes.io/revision": "1",
      "deployment.kubernetes.io/desired-replicas": "3",
      "deployment.kubernetes.io/max-replicas": "4",
    });
    expect(rs?.spec?.selector).toEqual({ matchLabels: { app: "web", "pod-template-hash": hash } });
    expect(rs?.spec?.template?.metadata?.labels).toEqual({ app: "web", "pod-template-hash": hash });
    expect(rs?.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Deployment", name: "web", uid: seeded.metadata.uid, controller: true });
    expect(client.writes[0]).toMatchObject({ verb: "create", resource: "replicasets", name: `web-${hash}` });
    await converge();
    expect(pods()).toHaveLength(3);
    const final = read();
    expect(final.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("1");
    expect(final.status).toMatchObject({ observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    expect(final.status?.unavailableReplicas).toBeUndefined();
    expect(final.status?.conditions?.map((condition) => [condition.type, condition.status, condition.reason])).toEqual([
      ["Available", "True", "MinimumReplicasAvailable"],
      ["Progressing", "True", "NewReplicaSetAvailable"],
    ]);
    expect(final.status?.conditions?.[1]?.message).toBe(`ReplicaSet "web-${hash}" has successfully progressed.`);
  });

  it("a second reconcile of a converged Deployment writes nothing", async () => {
    const { client, deployments, converge } = cluster(deployment("web", 2));
    await converge();
    client.clearWrites();
    await deployments.reconcile("default/web");
    expect(client.writes).toEqual([]);
  });

  it("rolls out a new template without going below replicas - maxUnavailable ready pods or above replicas + maxSurge", async () => {
    const { read, replicaSets, pods, converge, update } = cluster(deployment("web", 4));
    await converge();
    update((current) => ({ ...current, spec: { ...current.spec!, template: template({ app: "web" }, "nginx:2") } }));
    let lowestReady = Infinity;
    let highestTotal = 0;
    await converge(() => {
      lowestReady = Math.min(lowestReady, pods().filter(isPodReady).length);
      // maxSurge bounds what the ReplicaSets ask for; pods of an old one go a moment later.
      highestTotal = Math.max(highestTotal, replicaSets().reduce((sum, rs) => sum + (rs.spec?.replicas ?? 0), 0));
    });
    // 25% of 4: one pod may be unavailable and one extra may exist.
    expect(lowestReady).toBe(3);
    expect(highestTotal).toBe(5);
    const images = pods().map((pod) => pod.spec?.containers[0]?.image);
    expect(images).toEqual(["nginx:2", "nginx:2", "nginx:2", "nginx:2"]);
    const sizes = replicaSets().map((rs) => [rs.metadata.annotations?.["deployment.kubernetes.io/revision"], rs.spec?.replicas]);
    expect(sizes.sort()).toEqual([
      ["1", 0],
      ["2", 4],
    ]);
    const status = read().status;
    expect(status).toMatchObject({ observedGeneration: 2, replicas: 4, updatedReplicas: 4, availableReplicas: 4 });
    expect(status?.conditions?.find((condition) => condition.type === "Progressing")?.reason).toBe("NewReplicaSetAvailable");
  });

  it("Recreate scales the old ReplicaSet to zero and creates the new one only once its pods are gone", async () => {
    const { client, replicaSets, pods, converge, update } = cluster(deployment("web", 3, { strategy: { type: "Recreate" } }));
    await converge();
    update((current) => ({ ...current, spec: { ...current.spec!, template: template({ app: "web" }, "nginx:2") } }));
    let mixed = false;
    await converge(() => {
      const images = new Set(pods().map((pod) => pod.spec?.containers[0]?.image));
      if (images.size > 1) mixed = true;
    });
    expect(mixed).toBe(false);
    expect(pods().map((pod) => pod.spec?.containers[0]?.image)).toEqual(["nginx:2", "nginx:2", "nginx:2"]);
    expect(replicaSets().map((rs) => rs.spec?.replicas).sort()).toEqual([0, 3]);
    expect(client.writes.filter((write) => write.verb === "create" && write.resource === "replicasets")).toHaveLength(2);
  });

  it("a paused Deployment makes no new ReplicaSet for a new template, says so, and still scales", async () => {
    const { replicaSets, read, converge, update } = cluster(deployment("web", 2));
    await converge();
    update((current) => ({ ...current, spec: { ...current.spec!, paused: true, replicas: 3, template: template({ app: "web" }, "nginx:2") } }));
    await converge();
    expect(replicaSets().map((rs) => rs.spec?.replicas)).toEqual([3]);
    const progressing = read().status?.conditions?.find((condition) => condition.type === "Progressing");
    expect(progressing).toMatchObject({ status: "Unknown", reason: "DeploymentPaused", message: "Deployment is paused" });
    update((current) => ({ ...current, spec: { ...current.spec!, paused: false } }));
    await converge();
    expect(replicaSets().map((rs) => rs.spec?.replicas).sort()).toEqual([0, 3]);
  });

  it("keeps only revisionHistoryLimit old ReplicaSets", async () => {
    const { replicaSets, converge, update } = cluster(deployment("web", 1, { revisionHistoryLimit: 1 }));
    await converge();
    for (const image of ["nginx:2", "nginx:3"]) {
      update((current) => ({ ...current, spec: { ...current.spec!, template: template({ app: "web" }, image) } }));
      await converge();
    }
    const revisions = replicaSets().map((rs) => rs.metadata.annotations?.["deployment.kubernetes.io/revision"]);
    expect(revisions.sort()).toEqual(["2", "3"]);
  });

  it("reports ProgressDeadlineExceeded when pods never become ready in time", async () => {
    const { controllers, read } = cluster(deployment("web", 1, { progressDeadlineSeconds: 30 }));
    await controllers.settle();
    expect(read().status?.conditions?.find((condition) => condition.type === "Progressing")?.reason).toBe("ReplicaSetUpdated");
    controllers.fake.clock.advance(31_000);
    await controllers.fireDelayed();
    const progressing = read().status?.conditions?.find((condition) => condition.type === "Progressing");
    expect(progressing).toMatchObject({ status: "False", reason: "ProgressDeadlineExceeded" });
    expect(read().status?.conditions?.find((condition) => condition.type === "Available")?.status).toBe("False");
  });

  it("rolls back when kubectl copies an old template back: the old ReplicaSet becomes revision 3", async () => {
    const { read, replicaSets, converge, update } = cluster(deployment("web", 2));
    await converge();
    const firstName = replicaSets()[0]!.metadata.name;
    update((current) => ({ ...current, spec: { ...current.spec!, template: template({ app: "web" }, "nginx:2") } }));
    await converge();
    expect(read().metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("2");
    update((current) => ({ ...current, spec: { ...current.spec!, template: template({ app: "web" }, "nginx:1") } }));
    await converge();
    const first = replicaSets().find((rs) => rs.metadata.name === firstName)!;
    expect(first.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("3");
    expect(first.spec?.replicas).toBe(2);
    expect(read().metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("3");
    expect(replicaSets().filter((rs) => rs.metadata.name !== firstName).map((rs) => rs.spec?.replicas)).toEqual([0]);
  });
});
