import { describe, expect, it } from "vitest";
import { createPrng, type Prng } from "../../../libs/prng/index.ts";
import type { Pod } from "../../../libs/api/types/pod.ts";
import { Scheduler } from "./scheduler.ts";
import { ClusterSnapshot, type NodeInfo } from "./snapshot.ts";
import { makeNode, makePod, snapshotOf } from "./test-fixtures.ts";
import { computePodRequests } from "./resources.ts";
import { parseSelector } from "../../../libs/api/labels.ts";

/** Requests recomputed from the node's pod list, to compare with the incremental totals. */
function recomputed(node: NodeInfo): { milliCpu: number; memoryBytes: number } {
  let milliCpu = 0;
  let memoryBytes = 0;
  for (const pod of node.pods.values()) {
    milliCpu += pod.requests.requests.milliCpu;
    memoryBytes += pod.requests.requests.memoryBytes;
  }
  return { milliCpu, memoryBytes };
}

function assertNoOvercommit(snapshot: ClusterSnapshot): void {
  for (const node of snapshot.nodes()) {
    const fresh = recomputed(node);
    expect(node.requested.milliCpu).toBe(fresh.milliCpu);
    expect(node.requested.memoryBytes).toBe(fresh.memoryBytes);
    expect(node.requested.milliCpu).toBeLessThanOrEqual(node.allocatable.milliCpu);
    expect(node.requested.memoryBytes).toBeLessThanOrEqual(node.allocatable.memoryBytes);
    expect(node.pods.size).toBeLessThanOrEqual(node.allocatablePods);
  }
}

describe("ClusterSnapshot incremental updates", () => {
  it("addPod, updatePod and removePod keep a node's requests equal to its pods' sum", () => {
    const snapshot = snapshotOf([makeNode("n1"), makeNode("n2")]);
    snapshot.addPod(makePod("a", { nodeName: "n1", cpu: "500m", memory: "1Gi" }));
    snapshot.addPod(makePod("b", { nodeName: "n1", cpu: "250m" }));
    snapshot.updatePod(makePod("a", { nodeName: "n2", cpu: "500m", memory: "1Gi" }));
    expect(snapshot.node("n1")?.requested.milliCpu).toBe(250);
    expect(snapshot.node("n2")?.requested).toMatchObject({ milliCpu: 500, memoryBytes: 1024 ** 3 });
    snapshot.removePod(makePod("b", { nodeName: "n1" }));
    expect(snapshot.node("n1")?.requested.milliCpu).toBe(0);
    expect(snapshot.node("n1")?.pods.size).toBe(0);
  });

  it("a pod that finished leaves the snapshot and frees its resources", () => {
    const snapshot = snapshotOf([makeNode("n1")], [makePod("a", { nodeName: "n1", cpu: "1" })]);
    const done = makePod("a", { nodeName: "n1", cpu: "1" });
    done.status = { phase: "Succeeded" };
    snapshot.updatePod(done);
    expect(snapshot.node("n1")?.requested.milliCpu).toBe(0);
  });

  it("a pod bound to an unknown node waits on a placeholder that joins decisions with its Node", () => {
    const snapshot = snapshotOf([makeNode("n1")], [makePod("a", { nodeName: "late", cpu: "3" })]);
    expect(snapshot.nodes().map((node) => node.name)).toEqual(["n1"]);
    snapshot.addNode(makeNode("late", { cpu: "4" }));
    expect(snapshot.nodes().map((node) => node.name)).toEqual(["n1", "late"]);
    expect(snapshot.node("late")?.requested.milliCpu).toBe(3000);
  });

  it("updateNode changes allocatable, labels and taints in place", () => {
    const snapshot = snapshotOf([makeNode("n1", { cpu: "1" })]);
    snapshot.updateNode(makeNode("n1", { cpu: "2", labels: { zone: "a" }, taints: [{ key: "k", effect: "NoSchedule" }] }));
    const node = snapshot.node("n1");
    expect(node?.allocatable.milliCpu).toBe(2000);
    expect(node?.labels["zone"]).toBe("a");
    expect(node?.taints).toEqual([{ key: "k", effect: "NoSchedule" }]);
  });

  it("candidatePods narrows by an exact label and still lists every pod of the namespace otherwise", () => {
    const snapshot = snapshotOf([makeNode("n1")], [
      makePod("a", { nodeName: "n1", labels: { app: "web" } }),
      makePod("b", { nodeName: "n1", labels: { app: "db" } }),
      makePod("c", { nodeName: "n1", namespace: "other", labels: { app: "web" } }),
    ]);
    const names = (iterable: Iterable<{ key: string }>): string[] => [...iterable].map((pod) => pod.key).sort();
    expect(names(snapshot.candidatePods(["default"], parseSelector("app=web")))).toEqual(["default/a"]);
    expect(names(snapshot.candidatePods(["default"], parseSelector("app=none")))).toEqual([]);
    const everyNamespace = snapshot.candidatePods(undefined, parseSelector("app"));
    expect(names(everyNamespace)).toEqual(["default/a", "default/b", "other/c"]);
  });
});

describe("assume and forget", () => {
  it("an assumed pod holds its resources until forgotten", () => {
    const snapshot = snapshotOf([makeNode("n1", { cpu: "1" })]);
    const pod = makePod("a", { cpu: "1" });
    snapshot.assumePod(pod, "n1");
    expect(snapshot.isAssumed(pod)).toBe(true);
    expect(new Scheduler(snapshot).schedule(makePod("b", { cpu: "1" }), createPrng(1)).kind).toBe("Unschedulable");
    snapshot.forgetPod(pod);
    expect(snapshot.node("n1")?.requested.milliCpu).toBe(0);
    expect(new Scheduler(snapshot).schedule(makePod("b", { cpu: "1" }), createPrng(1)).kind).toBe("Scheduled");
  });

  it("the informer's add confirms an assumed pod, which forget then leaves alone", () => {
    const snapshot = snapshotOf([makeNode("n1", { cpu: "2" })]);
    const pod = makePod("a", { cpu: "1" });
    snapshot.assumePod(pod, "n1");
    snapshot.addPod({ ...pod, spec: { ...pod.spec, containers: pod.spec?.containers ?? [], nodeName: "n1" } });
    expect(snapshot.isAssumed(pod)).toBe(false);
    snapshot.forgetPod(pod);
    expect(snapshot.node("n1")?.requested.milliCpu).toBe(1000);
  });

  it("an informer update of the still-unbound pod keeps its reservation", () => {
    const snapshot = snapshotOf([makeNode("n1", { cpu: "2" })]);
    const pod = makePod("a", { cpu: "1" });
    snapshot.assumePod(pod, "n1");
    snapshot.updatePod({ ...pod, metadata: { ...pod.metadata, labels: { touched: "yes" } } });
    expect(snapshot.isAssumed(pod)).toBe(true);
    expect(snapshot.node("n1")?.requested.milliCpu).toBe(1000);
  });

  it("an assumed pod whose bind finished expires after the TTL unless confirmed", () => {
    const snapshot = snapshotOf([makeNode("n1")]);
    const pod = makePod("a", { cpu: "1" });
    snapshot.assumePod(pod, "n1");
    expect(snapshot.cleanupExpiredAssumedPods(1_000_000, 30_000)).toEqual([]);
    snapshot.finishBinding(pod, 10_000);
    expect(snapshot.cleanupExpiredAssumedPods(39_999, 30_000)).toEqual([]);
    expect(snapshot.cleanupExpiredAssumedPods(40_000, 30_000)).toEqual(["default/a"]);
    expect(snapshot.node("n1")?.requested.milliCpu).toBe(0);
  });

  it("assuming a pod already on a node is a bug", () => {
    const snapshot = snapshotOf([makeNode("n1")]);
    snapshot.assumePod(makePod("a"), "n1");
    expect(() => snapshot.assumePod(makePod("a"), "n1")).toThrow(/invariant broken/);
  });
});

interface InFlight {
  readonly pod: Pod;
  readonly nodeName: string;
}

function randomPod(prng: Prng, index: number): Pod {
  const cpuMilli = 100 * (1 + prng.nextInt(20));
  const memoryMi = 128 * (1 + prng.nextInt(16));
  return makePod(`p${index}`, { cpu: `${cpuMilli}m`, memory: `${memoryMi}Mi`, ownerUid: `rs${prng.nextInt(10)}` });
}

/**
 * Many pods scheduled with several binds in flight at once; binds complete (informer add) or fail
 * (forget) in random order, and pods are deleted at random. After every step no node's requests
 * exceed its allocatable and the incremental totals equal a recount.
 */
function concurrentBindingRun(seed: number, podCount: number): { scheduled: number; unschedulable: number } {
  const prng = createPrng(seed);
  const nodeCount = 3 + prng.nextInt(8);
  const snapshot = snapshotOf(Array.from({ length: nodeCount }, (_, i) => makeNode(`n${i}`, { cpu: `${1 + prng.nextInt(4)}`, memory: `${1 + prng.nextInt(4)}Gi`, pods: 5 + prng.nextInt(10) })));
  const scheduler = new Scheduler(snapshot);
  const inFlight: InFlight[] = [];
  const bound: Pod[] = [];
  let scheduled = 0;
  let unschedulable = 0;
  for (let index = 0; index < podCount; index++) {
    const pod = randomPod(prng, index);
    const result = scheduler.schedule(pod, prng);
    if (result.kind === "Scheduled") {
      snapshot.assumePod(pod, result.nodeName);
      inFlight.push({ pod, nodeName: result.nodeName });
      scheduled++;
    } else {
      unschedulable++;
    }
    // The informer may deliver updates of a pod whose bind is still in flight (no nodeName yet).
    const touched = inFlight.length > 0 ? inFlight[prng.nextInt(inFlight.length)] : undefined;
    if (touched !== undefined && prng.nextInt(3) === 0) snapshot.updatePod(touched.pod);
    // Finish a random number of in-flight binds in random order.
    for (let finishes = prng.nextInt(3); finishes > 0 && inFlight.length > 0; finishes--) {
      const [done] = inFlight.splice(prng.nextInt(inFlight.length), 1);
      if (done === undefined) continue;
      if (prng.nextInt(5) === 0) {
        snapshot.forgetPod(done.pod);
      } else {
        const boundPod: Pod = { ...done.pod, spec: { ...done.pod.spec, containers: done.pod.spec?.containers ?? [], nodeName: done.nodeName } };
        snapshot.addPod(boundPod);
        bound.push(boundPod);
      }
    }
    if (bound.length > 0 && prng.nextInt(4) === 0) snapshot.removePod(bound.splice(prng.nextInt(bound.length), 1)[0] as Pod);
    assertNoOvercommit(snapshot);
  }
  return { scheduled, unschedulable };
}

describe("no node is ever overcommitted", () => {
  it("with many pods and binds in flight, requests never exceed allocatable (50 seeds)", () => {
    let scheduled = 0;
    let unschedulable = 0;
    for (let seed = 1; seed <= 50; seed++) {
      const counts = concurrentBindingRun(seed, 150);
      scheduled += counts.scheduled;
      unschedulable += counts.unschedulable;
    }
    // The run must exercise both outcomes, or it proves nothing about the limit.
    expect(scheduled).toBeGreaterThan(1000);
    expect(unschedulable).toBeGreaterThan(100);
  });

  it("the pod's own requests include the largest init container", () => {
    const pod = makePod("p", { cpu: "1" });
    pod.spec = { ...pod.spec, containers: pod.spec?.containers ?? [], initContainers: [{ name: "init", resources: { requests: { cpu: "3" } } }] };
    expect(computePodRequests(pod).requests.milliCpu).toBe(3000);
  });
});
