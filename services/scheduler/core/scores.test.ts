import { describe, expect, it } from "vitest";
import { createPrng } from "../../../libs/prng/index.ts";
import type { Node } from "../../../libs/api/types/core.ts";
import type { Pod } from "../../../libs/api/types/pod.ts";
import { newPodInfo } from "./pod-info.ts";
import { numFeasibleNodesToFind, Scheduler } from "./scheduler.ts";
import { defaultNormalize, minMaxNormalize, scoreBalancedAllocation, scoreLeastAllocated, scoreNodeAffinityRaw, scoreOwnerSpread, scoreTaintTolerationRaw } from "./scores.ts";
import { makeNode, makePod, snapshotOf } from "./test-fixtures.ts";
import { normalizeTopologySpread } from "./topology-spread.ts";
import type { ClusterSnapshot } from "./snapshot.ts";

function chosen(snapshot: ClusterSnapshot, pod: Pod, seed = 1): string {
  const result = new Scheduler(snapshot, { percentageOfNodesToScore: 100, weights: new Scheduler(snapshot).config.weights }).schedule(pod, createPrng(seed));
  if (result.kind !== "Scheduled") throw new Error(result.message);
  return result.nodeName;
}

/** Schedules pods one after another, assuming each onto its node as the scheduler loop does. */
function placeAll(snapshot: ClusterSnapshot, pods: readonly Pod[]): string[] {
  const scheduler = new Scheduler(snapshot);
  const prng = createPrng(7);
  return pods.map((pod) => {
    const result = scheduler.schedule(pod, prng);
    if (result.kind !== "Scheduled") throw new Error(result.message);
    snapshot.assumePod(pod, result.nodeName);
    return result.nodeName;
  });
}

describe("resource scores", () => {
  it("LeastAllocated averages the free fraction of cpu and memory after placing the pod", () => {
    const snapshot = snapshotOf([makeNode("n1", { cpu: "4", memory: "8Gi" })], [makePod("a", { nodeName: "n1", cpu: "1", memory: "2Gi" })]);
    const node = snapshot.node("n1");
    if (node === undefined) throw new Error("node missing");
    expect(scoreLeastAllocated(newPodInfo(makePod("p", { cpu: "1", memory: "2Gi" })), node)).toBe(50);
  });

  it("LeastAllocated scores a pod without requests with the 100m / 200Mi defaults", () => {
    const snapshot = snapshotOf([makeNode("n1", { cpu: "1", memory: "1000Mi" })]);
    const node = snapshot.node("n1");
    if (node === undefined) throw new Error("node missing");
    // cpu (1000 - 100) / 1000 = 90, memory (1000 - 200) / 1000 = 80.
    expect(scoreLeastAllocated(newPodInfo(makePod("p")), node)).toBe(85);
  });

  it("BalancedAllocation is one minus half the difference of the requested fractions", () => {
    const snapshot = snapshotOf([makeNode("n1", { cpu: "4", memory: "8Gi" })]);
    const node = snapshot.node("n1");
    if (node === undefined) throw new Error("node missing");
    // cpu 2/4 = 0.5, memory 2/8 = 0.25: deviation 0.125, score 87.
    expect(scoreBalancedAllocation(newPodInfo(makePod("p", { cpu: "2", memory: "2Gi" })), node)).toBe(87);
  });

  it("schedule() prefers the emptier node", () => {
    const snapshot = snapshotOf([makeNode("busy"), makeNode("idle")], [makePod("a", { nodeName: "busy", cpu: "3", memory: "6Gi" })]);
    expect(chosen(snapshot, makePod("p", { cpu: "500m", memory: "1Gi" }))).toBe("idle");
  });
});

describe("affinity and taint scores", () => {
  const preferring = (weights: [string, number][]): Pod =>
    makePod("p", {
      affinity: {
        nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: weights.map(([zone, weight]) => ({ weight, preference: { matchExpressions: [{ key: "zone", operator: "In", values: [zone] }] } })) },
      },
    });
  const zoned = (): Node[] => [makeNode("a1", { labels: { zone: "a" } }), makeNode("b1", { labels: { zone: "b" } }), makeNode("c1", { labels: { zone: "c" } })];

  it("preferred node affinity sums matching weights and scales by the best node", () => {
    const snapshot = snapshotOf(zoned());
    const pod = newPodInfo(preferring([["a", 20], ["b", 80]]));
    const raw = snapshot.nodes().map((node) => scoreNodeAffinityRaw(pod, node));
    expect(raw).toEqual([20, 80, 0]);
    expect(defaultNormalize(raw, false)).toEqual([25, 100, 0]);
    expect(chosen(snapshot, preferring([["a", 20], ["b", 80]]))).toBe("b1");
  });

  it("an intolerable PreferNoSchedule taint lowers a node's score, reversed and scaled", () => {
    const snapshot = snapshotOf([makeNode("soft", { taints: [{ key: "k", effect: "PreferNoSchedule" }] }), makeNode("clean")]);
    const pod = newPodInfo(makePod("p"));
    const raw = snapshot.nodes().map((node) => scoreTaintTolerationRaw(pod, node));
    expect(raw).toEqual([1, 0]);
    expect(defaultNormalize(raw, true)).toEqual([0, 100]);
    expect(chosen(snapshot, makePod("p"))).toBe("clean");
    const tolerant = newPodInfo(makePod("q", { tolerations: [{ key: "k", operator: "Exists" }] }));
    expect(snapshot.nodes().map((node) => scoreTaintTolerationRaw(tolerant, node))).toEqual([0, 0]);
  });

  it("preferred pod affinity draws the pod to the zone of matching pods; preferred anti-affinity pushes it away", () => {
    const snapshot = snapshotOf(zoned(), [makePod("cache", { nodeName: "c1", labels: { app: "cache" } })]);
    const term = { labelSelector: { matchLabels: { app: "cache" } }, topologyKey: "zone" };
    expect(chosen(snapshot, makePod("p", { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] } } }))).toBe("c1");
    const away = makePod("q", { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] } } });
    expect([1, 2, 3, 4, 5].map((seed) => chosen(snapshot, away, seed))).not.toContain("c1");
  });

  it("an existing pod's preferred affinity draws matching pods to it", () => {
    const term = { labelSelector: { matchLabels: { app: "web" } }, topologyKey: "zone" };
    const lonely = makePod("db", { nodeName: "b1", affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] } } });
    expect(chosen(snapshotOf(zoned(), [lonely]), makePod("web", { labels: { app: "web" } }))).toBe("b1");
  });

  it("minMaxNormalize scales to [0, 100] and gives 0 when all scores are equal", () => {
    expect(minMaxNormalize([-10, 0, 10])).toEqual([0, 50, 100]);
    expect(minMaxNormalize([3, 3])).toEqual([0, 0]);
  });
});

describe("spreading scores", () => {
  it("ScheduleAnyway topology spread puts pods in the emptier zones", () => {
    const nodes = [makeNode("a1", { labels: { zone: "a" } }), makeNode("a2", { labels: { zone: "a" } }), makeNode("b1", { labels: { zone: "b" } })];
    const spread = [{ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "ScheduleAnyway" as const, labelSelector: { matchLabels: { app: "web" } } }];
    const pods = Array.from({ length: 4 }, (_, i) => makePod(`w${i}`, { labels: { app: "web" }, spread }));
    const zones = placeAll(snapshotOf(nodes), pods).map((name) => name.slice(0, 1));
    expect(zones.filter((zone) => zone === "a")).toHaveLength(2);
    expect(zones.filter((zone) => zone === "b")).toHaveLength(2);
  });

  it("normalizeTopologySpread gives fewer matches more points and nodes without the key none", () => {
    expect(normalizeTopologySpread([0, 2, 4, undefined], 100)).toEqual([100, 50, 0, 0]);
    expect(normalizeTopologySpread([0, 0], 100)).toEqual([100, 100]);
  });

  it("pods of one owner spread over nodes by default", () => {
    const nodes = [makeNode("n1"), makeNode("n2"), makeNode("n3")];
    const pods = Array.from({ length: 3 }, (_, i) => makePod(`r${i}`, { ownerUid: "rs-1" }));
    expect(new Set(placeAll(snapshotOf(nodes), pods)).size).toBe(3);
  });

  it("owner spreading weighs zones: the node in the zone without the owner's pods wins", () => {
    const nodes = [makeNode("a1", { labels: { "topology.kubernetes.io/zone": "a" } }), makeNode("a2", { labels: { "topology.kubernetes.io/zone": "a" } }), makeNode("b1", { labels: { "topology.kubernetes.io/zone": "b" } })];
    const snapshot = snapshotOf(nodes, [makePod("r0", { nodeName: "a1", ownerUid: "rs-1" })]);
    // a2: node score 100 × 1/3 + zone a score 0 × 2/3 = 33.
    expect(scoreOwnerSpread(snapshot, newPodInfo(makePod("r1", { ownerUid: "rs-1" })), snapshot.nodes())).toEqual([0, 33, 100]);
  });
});

describe("node sampling and ties", () => {
  it("numFeasibleNodesToFind follows upstream's adaptive percentage", () => {
    expect(numFeasibleNodesToFind(50, 0)).toBe(50);
    expect(numFeasibleNodesToFind(100, 0)).toBe(100);
    expect(numFeasibleNodesToFind(1000, 0)).toBe(420);
    expect(numFeasibleNodesToFind(5000, 0)).toBe(500);
    expect(numFeasibleNodesToFind(6000, 0)).toBe(300);
    expect(numFeasibleNodesToFind(1000, 100)).toBe(1000);
  });

  it("a decision starts where the last one stopped", () => {
    const snapshot = snapshotOf(Array.from({ length: 200 }, (_, i) => makeNode(`n${i}`)));
    const scheduler = new Scheduler(snapshot);
    const first = scheduler.schedule(makePod("a"), createPrng(1));
    const second = scheduler.schedule(makePod("b"), createPrng(1));
    expect(first).toMatchObject({ kind: "Scheduled", evaluatedNodes: 100 });
    expect(second).toMatchObject({ kind: "Scheduled", evaluatedNodes: 100 });
    if (first.kind !== "Scheduled" || second.kind !== "Scheduled") throw new Error("unschedulable");
    expect(Number(first.nodeName.slice(1))).toBeLessThan(100);
    expect(Number(second.nodeName.slice(1))).toBeGreaterThanOrEqual(100);
  });

  it("ties are broken by the injected PRNG: the same seed picks the same node, seeds differ", () => {
    const nodes = Array.from({ length: 8 }, (_, i) => makeNode(`n${i}`));
    const pick = (seed: number): string => chosen(snapshotOf(nodes), makePod("p"), seed);
    expect(pick(42)).toBe(pick(42));
    expect(new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(pick)).size).toBeGreaterThan(1);
  });
});
