import { describe, expect, it } from "vitest";
import { createPrng } from "../../../libs/prng/index.ts";
import type { Node, NodeSelectorRequirement, PersistentVolume } from "../../../libs/api/types/core.ts";
import type { Pod } from "../../../libs/api/types/pod.ts";
import { filterNodeAffinity } from "./filters.ts";
import { newPodInfo } from "./pod-info.ts";
import { Scheduler, type ScheduleResult } from "./scheduler.ts";
import { makeNode, makePod, snapshotOf } from "./test-fixtures.ts";

function run(nodes: Node[], existing: Pod[], pod: Pod, inputs: Parameters<Scheduler["schedule"]>[2] = {}): ScheduleResult {
  return new Scheduler(snapshotOf(nodes, existing)).schedule(pod, createPrng(1), inputs);
}

function message(result: ScheduleResult): string {
  if (result.kind !== "Unschedulable") throw new Error(`expected Unschedulable, got ${result.nodeName}`);
  return result.message;
}

// A node is feasible when the pod, pinned there through a node selector on its hostname, schedules.
function isFeasible(nodes: Node[], existing: Pod[], pod: Pod, name: string): boolean {
  const pinned: Pod = { ...pod, spec: { containers: [], ...pod.spec, nodeSelector: { ...pod.spec?.nodeSelector, "kubernetes.io/hostname": name } } };
  return run(nodes, existing, pinned).kind === "Scheduled";
}

describe("NodeResourcesFit and TaintToleration", () => {
  it("schedule() reports insufficient cpu and an untolerated taint in upstream's words", () => {
    const nodes = [makeNode("n1", { cpu: "1" }), makeNode("n2", { cpu: "1" }), makeNode("n3", { cpu: "8", taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }] })];
    expect(message(run(nodes, [], makePod("p", { cpu: "2" })))).toBe(
      "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. " +
        "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
    );
  });

  it("schedule() counts every resource that does not fit on a node", () => {
    const nodes = [makeNode("n1", { cpu: "1", memory: "1Gi" })];
    expect(message(run(nodes, [], makePod("p", { cpu: "2", memory: "2Gi" })))).toBe(
      "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
    );
  });

  it("schedule() counts pods already on the node against its requests and its pod limit", () => {
    const nodes = [makeNode("n1", { cpu: "2", pods: 1 }), makeNode("n2", { cpu: "2" })];
    const existing = [makePod("a", { cpu: "1500m", nodeName: "n1" }), makePod("b", { cpu: "1500m", nodeName: "n2" })];
    expect(message(run(nodes, existing, makePod("p", { cpu: "1" })))).toBe(
      "0/2 nodes are available: 1 Too many pods, 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
    );
  });

  it("schedule() checks ephemeral storage and extended resources by name", () => {
    const node = makeNode("n1");
    node.status = { ...node.status, allocatable: { ...node.status?.allocatable, "ephemeral-storage": "10Gi" } };
    const pod = makePod("p");
    pod.spec = { containers: [{ name: "app", resources: { requests: { "ephemeral-storage": "20Gi", "nvidia.com/gpu": "1" } } }] };
    expect(message(run([node], [], pod))).toBe(
      "0/1 nodes are available: 1 Insufficient ephemeral-storage, 1 Insufficient nvidia.com/gpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
    );
  });

  it("schedule() places a pod with no requests on a full node while pods remain", () => {
    const nodes = [makeNode("n1", { cpu: "1" })];
    const result = run(nodes, [makePod("a", { cpu: "1", nodeName: "n1" })], makePod("p"));
    expect(result).toMatchObject({ kind: "Scheduled", nodeName: "n1" });
  });

  it("schedule() sorts reasons as strings, as Go's sort.Strings does", () => {
    const nodes = [...Array.from({ length: 10 }, (_, i) => makeNode(`t${i}`, { taints: [{ key: "k", effect: "NoExecute" }] })), makeNode("c1", { cpu: "1" }), makeNode("c2", { cpu: "1" })];
    expect(message(run(nodes, [], makePod("p", { cpu: "2" })))).toMatch(/^0\/12 nodes are available: 10 node\(s\) had untolerated taint \{k: \}, 2 Insufficient cpu\. /);
  });

  it("a toleration lets the pod onto a tainted node; PreferNoSchedule never filters", () => {
    const nodes = [makeNode("n1", { taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }, { key: "soft", effect: "PreferNoSchedule" }] })];
    expect(run(nodes, [], makePod("p", { tolerations: [{ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }] })).kind).toBe("Scheduled");
    expect(run(nodes, [], makePod("q", { tolerations: [{ key: "dedicated", operator: "Equal", value: "cpu" }] })).kind).toBe("Unschedulable");
    expect(run(nodes, [], makePod("r", { tolerations: [{ operator: "Exists" }] })).kind).toBe("Scheduled");
  });
});

describe("NodeUnschedulable and node readiness", () => {
  it("a cordoned node rejects pods that do not tolerate the unschedulable taint", () => {
    const nodes = [makeNode("n1", { unschedulable: true })];
    expect(message(run(nodes, [], makePod("p")))).toBe(
      "0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
    );
    const tolerating = makePod("ds", { tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }] });
    expect(run(nodes, [], tolerating).kind).toBe("Scheduled");
  });

  it("a NotReady node has the not-ready taint and an unknown one the unreachable taint", () => {
    const nodes = [makeNode("n1", { ready: "False" }), makeNode("n2", { ready: "Unknown" })];
    expect(message(run(nodes, [], makePod("p")))).toBe(
      "0/2 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }. " +
        "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    );
  });
});

describe("NodeName and NodeAffinity", () => {
  it("a pod naming a node fits only there", () => {
    const nodes = [makeNode("n1"), makeNode("n2")];
    const pod = makePod("p", { nodeName: "n3" });
    expect(message(run(nodes, [], pod))).toBe(
      "0/2 nodes are available: 2 node(s) didn't match the requested node name. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    );
  });

  it("nodeSelector must match every label", () => {
    const nodes = [makeNode("n1", { labels: { disk: "ssd" } }), makeNode("n2")];
    expect(run(nodes, [], makePod("p", { nodeSelector: { disk: "ssd" } }))).toMatchObject({ kind: "Scheduled", nodeName: "n1" });
    expect(message(run(nodes, [], makePod("q", { nodeSelector: { disk: "nvme" } })))).toBe(
      "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    );
  });

  const cases: [string, NodeSelectorRequirement, string[]][] = [
    ["In", { key: "tier", operator: "In", values: ["a", "b"] }, ["na", "nb"]],
    ["NotIn", { key: "tier", operator: "NotIn", values: ["a"] }, ["nb", "nc", "none"]],
    ["Exists", { key: "tier", operator: "Exists" }, ["na", "nb", "nc"]],
    ["DoesNotExist", { key: "tier", operator: "DoesNotExist" }, ["none"]],
    ["Gt", { key: "cores", operator: "Gt", values: ["8"] }, ["nb"]],
    ["Lt", { key: "cores", operator: "Lt", values: ["8"] }, ["na"]],
  ];
  for (const [operator, requirement, expected] of cases) {
    it(`required node affinity with ${operator} selects the matching nodes`, () => {
      const nodes = [
        makeNode("na", { labels: { tier: "a", cores: "4" } }),
        makeNode("nb", { labels: { tier: "b", cores: "16" } }),
        makeNode("nc", { labels: { tier: "c", cores: "many" } }),
        makeNode("none"),
      ];
      const snapshot = snapshotOf(nodes);
      const pod = newPodInfo(makePod("p", { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [requirement] }] } } } }));
      const passing = snapshot.nodes().filter((node) => filterNodeAffinity(pod, node) === undefined).map((node) => node.name);
      expect(passing).toEqual(expected);
    });
  }

  it("node affinity terms are ORed and matchFields selects by node name", () => {
    const nodes = [makeNode("n1", { labels: { zone: "a" } }), makeNode("n2"), makeNode("n3")];
    const pod = makePod("p", {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] }, { matchFields: [{ key: "metadata.name", operator: "In", values: ["n3"] }] }],
          },
        },
      },
    });
    expect(["n1", "n2", "n3"].filter((name) => isFeasible(nodes, [], pod, name))).toEqual(["n1", "n3"]);
  });
});

describe("NodePorts", () => {
  const nodes = [makeNode("n1")];
  const existing = [makePod("a", { nodeName: "n1", hostPorts: [{ containerPort: 80, hostPort: 8080 }] })];

  it("a host port in use on the node rejects the pod", () => {
    expect(message(run(nodes, existing, makePod("p", { hostPorts: [{ containerPort: 80, hostPort: 8080 }] })))).toBe(
      "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
    );
  });

  it("another protocol or another port on the same node is free", () => {
    expect(run(nodes, existing, makePod("p", { hostPorts: [{ containerPort: 80, hostPort: 8080, protocol: "UDP" }] })).kind).toBe("Scheduled");
    expect(run(nodes, existing, makePod("q", { hostPorts: [{ containerPort: 80, hostPort: 8081 }] })).kind).toBe("Scheduled");
  });

  it("distinct host IPs share a port, but 0.0.0.0 conflicts with every IP", () => {
    const specific = [makePod("a", { nodeName: "n1", hostPorts: [{ containerPort: 80, hostPort: 53, hostIP: "10.0.0.1" }] })];
    expect(run(nodes, specific, makePod("p", { hostPorts: [{ containerPort: 80, hostPort: 53, hostIP: "10.0.0.2" }] })).kind).toBe("Scheduled");
    expect(run(nodes, specific, makePod("q", { hostPorts: [{ containerPort: 80, hostPort: 53 }] })).kind).toBe("Unschedulable");
  });
});

describe("InterPodAffinity", () => {
  const zoned = (): Node[] => [
    makeNode("a1", { labels: { zone: "a" } }),
    makeNode("a2", { labels: { zone: "a" } }),
    makeNode("b1", { labels: { zone: "b" } }),
  ];
  const web = makePod("web-0", { nodeName: "a1", labels: { app: "web" } });
  const antiWeb = (topologyKey: string) => ({
    podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "web" } }, topologyKey }] },
  });

  it("required anti-affinity by hostname keeps the pod off the node with a matching pod", () => {
    const pod = makePod("web-1", { labels: { app: "web" }, affinity: antiWeb("kubernetes.io/hostname") });
    expect(["a1", "a2", "b1"].filter((name) => isFeasible(zoned(), [web], pod, name))).toEqual(["a2", "b1"]);
  });

  it("required anti-affinity by zone keeps the pod out of the zone, in upstream's words", () => {
    const pod = makePod("web-1", { labels: { app: "web" }, affinity: antiWeb("zone"), nodeSelector: { zone: "a" } });
    expect(message(run(zoned(), [web], pod))).toBe(
      "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 node(s) didn't match pod anti-affinity rules. " +
        "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
    );
  });

  it("anti-affinity only sees pods in the term's namespaces", () => {
    const other = makePod("web-x", { namespace: "other", nodeName: "a1", labels: { app: "web" } });
    const pod = makePod("web-1", { affinity: antiWeb("kubernetes.io/hostname"), nodeSelector: { "kubernetes.io/hostname": "a1" } });
    expect(run(zoned(), [other], pod).kind).toBe("Scheduled");
  });

  it("an existing pod's anti-affinity rejects an incoming pod it selects", () => {
    const guard = makePod("guard", { nodeName: "a1", affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "db" } }, topologyKey: "zone" }] } } });
    const pod = makePod("db-0", { labels: { app: "db" }, nodeSelector: { zone: "a" } });
    expect(message(run(zoned(), [guard], pod))).toBe(
      "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 node(s) didn't satisfy existing pods anti-affinity rules. " +
        "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
    );
  });

  it("required affinity puts the pod in the zone of a matching pod", () => {
    const cache = makePod("cache", { nodeName: "b1", labels: { app: "cache" } });
    const pod = makePod("p", { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "cache" } }, topologyKey: "zone" }] } } });
    expect(run(zoned(), [cache], pod)).toMatchObject({ kind: "Scheduled", nodeName: "b1" });
    expect(message(run(zoned(), [], makePod("q", { labels: { app: "other" }, affinity: pod.spec?.affinity ?? {} })))).toBe(
      "0/3 nodes are available: 3 node(s) didn't match pod affinity rules. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
  });

  it("the first pod of a group with affinity to itself may go anywhere", () => {
    const pod = makePod("p", { labels: { app: "cache" }, affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "cache" } }, topologyKey: "zone" }] } } });
    expect(run(zoned(), [], pod).kind).toBe("Scheduled");
  });
});

describe("PodTopologySpread", () => {
  const nodes = (): Node[] => [makeNode("a1", { labels: { zone: "a" } }), makeNode("b1", { labels: { zone: "b" } })];
  const spread = (extra: { minDomains?: number } = {}) => [{ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule" as const, labelSelector: { matchLabels: { app: "web" } }, ...extra }];

  it("a domain that would exceed maxSkew over the emptiest one is rejected", () => {
    const existing = [makePod("w0", { nodeName: "a1", labels: { app: "web" } }), makePod("w1", { nodeName: "a1", labels: { app: "web" } })];
    const pod = makePod("w2", { labels: { app: "web" }, spread: spread() });
    expect(run(nodes(), existing, pod)).toMatchObject({ kind: "Scheduled", nodeName: "b1" });
    // Pinned to zone a: with nodeAffinityPolicy Honor zone b is not a domain, so the skew is fine;
    // with Ignore the empty zone b counts and zone a is over the skew.
    const pinned = (policy: "Honor" | "Ignore"): Pod =>
      makePod("w2", { labels: { app: "web" }, nodeSelector: { zone: "a" }, spread: [{ ...spread()[0]!, nodeAffinityPolicy: policy }] });
    expect(run(nodes(), existing, pinned("Honor"))).toMatchObject({ kind: "Scheduled", nodeName: "a1" });
    expect(message(run(nodes(), existing, pinned("Ignore")))).toBe(
      "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) didn't match pod topology spread constraints. " +
        "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.",
    );
  });

  it("nodeTaintsPolicy Honor leaves tainted nodes' domains out of the minimum", () => {
    const tainted = makeNode("c1", { labels: { zone: "c" }, taints: [{ key: "k", effect: "NoSchedule" }] });
    const existing = [makePod("w0", { nodeName: "a1", labels: { app: "web" } })];
    const pod = (policy: "Honor" | "Ignore"): Pod => makePod("w1", { labels: { app: "web" }, nodeSelector: { zone: "a" }, spread: [{ ...spread()[0]!, nodeAffinityPolicy: "Ignore", nodeTaintsPolicy: policy }] });
    // Ignore: zones a, b and c count; b and c are empty, a would reach skew 2.
    expect(run([...nodes(), tainted], existing, pod("Ignore")).kind).toBe("Unschedulable");
    // Honor drops zone c but b stays empty: still over the skew. Without b the pod would fit.
    expect(run([...nodes(), tainted], existing, pod("Honor")).kind).toBe("Unschedulable");
    expect(run([makeNode("a1", { labels: { zone: "a" } }), tainted], existing, pod("Honor")).kind).toBe("Scheduled");
    expect(run([makeNode("a1", { labels: { zone: "a" } }), tainted], existing, pod("Ignore")).kind).toBe("Unschedulable");
  });

  it("matchLabelKeys narrows the selector to pods sharing the incoming pod's label values", () => {
    const existing = [makePod("v1-0", { nodeName: "a1", labels: { app: "web", rev: "1" } }), makePod("v1-1", { nodeName: "a1", labels: { app: "web", rev: "1" } })];
    const pod = makePod("v2-0", { labels: { app: "web", rev: "2" }, nodeSelector: { zone: "a" }, spread: [{ ...spread()[0]!, nodeAffinityPolicy: "Ignore", matchLabelKeys: ["rev"] }] });
    expect(run(nodes(), existing, pod).kind).toBe("Scheduled");
    const withoutKeys = makePod("v2-1", { labels: { app: "web", rev: "2" }, nodeSelector: { zone: "a" }, spread: [{ ...spread()[0]!, nodeAffinityPolicy: "Ignore" }] });
    expect(run(nodes(), existing, withoutKeys).kind).toBe("Unschedulable");
  });

  it("a node without the topology key is rejected as missing the label", () => {
    const pod = makePod("w0", { labels: { app: "web" }, spread: spread() });
    expect(message(run([makeNode("bare")], [], pod))).toBe(
      "0/1 nodes are available: 1 node(s) didn't match pod topology spread constraints (missing required label). preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
    );
  });

  it("with fewer domains than minDomains the global minimum is zero", () => {
    const existing = [makePod("w0", { nodeName: "a1", labels: { app: "web" } }), makePod("w1", { nodeName: "b1", labels: { app: "web" } })];
    expect(run(nodes(), existing, makePod("w2", { labels: { app: "web" }, spread: spread() })).kind).toBe("Scheduled");
    expect(message(run(nodes(), existing, makePod("w3", { labels: { app: "web" }, spread: spread({ minDomains: 3 }) })))).toBe(
      "0/2 nodes are available: 2 node(s) didn't match pod topology spread constraints. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
    );
  });
});

describe("VolumeBinding and the message's edges", () => {
  const volume: PersistentVolume = {
    metadata: { name: "pv" },
    spec: { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["n2"] }] }] } } },
  };

  it("a bound volume's node affinity pins the pod", () => {
    const nodes = [makeNode("n1"), makeNode("n2")];
    expect(run(nodes, [], makePod("p"), { boundVolumes: [volume] })).toMatchObject({ kind: "Scheduled", nodeName: "n2" });
    expect(message(run([makeNode("n1")], [], makePod("p"), { boundVolumes: [volume] }))).toBe(
      "0/1 nodes are available: 1 node(s) had volume node affinity conflict. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
    );
  });

  it("an unbound immediate claim fails before any node is filtered", () => {
    expect(message(run([makeNode("n1"), makeNode("n2")], [], makePod("p"), { unboundImmediateClaims: true }))).toBe(
      "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    );
  });

  it("a claim not known yet fails before any node is filtered, with the reason it was given", () => {
    const result = run([makeNode("n1"), makeNode("n2")], [], makePod("p"), { missingVolumeReason: 'persistentvolumeclaim "data" not found' });
    expect(message(result)).toBe(
      '0/2 nodes are available: persistentvolumeclaim "data" not found. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    );
  });

  it("no nodes at all, and preemptionPolicy Never, get upstream's texts", () => {
    expect(message(run([], [], makePod("p")))).toBe("no nodes available to schedule pods");
    const never = makePod("p", { cpu: "100" });
    never.spec = { ...never.spec, containers: never.spec?.containers ?? [], preemptionPolicy: "Never" };
    expect(message(run([makeNode("n1")], [], never))).toBe("0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.");
  });
});

