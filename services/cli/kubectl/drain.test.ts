import { describe, expect, it } from "vitest";
import { findResource, newTooManyRequests } from "../../../libs/api/index.ts";
import type { Node, Pod } from "../../../libs/api/index.ts";
import { cordon, cordonFlags, drain, drainFlags, drainOptionsOf, planPods, uncordon } from "./drain.ts";
import { parseArgs } from "./flags.ts";
import { testContext } from "./test-support.ts";

const nodes = findResource("", "v1", "nodes")!;
const pods = findResource("", "v1", "pods")!;
const fast = { evictionRetryMs: 1, deletionPollMs: 1 };

function pod(name: string, extra: { owner?: string; emptyDir?: boolean; node?: string; phase?: string; mirror?: boolean } = {}): Pod {
  return {
    metadata: {
      name,
      namespace: "demo",
      uid: `uid-${name}`,
      ...(extra.owner === undefined ? {} : { ownerReferences: [{ apiVersion: "apps/v1", kind: extra.owner, name: "owner", uid: "o", controller: true }] }),
      ...(extra.mirror === true ? { annotations: { "kubernetes.io/config.mirror": "x" } } : {}),
    },
    spec: { nodeName: extra.node ?? "n1", containers: [{ name: "c", image: "i" }], ...(extra.emptyDir === true ? { volumes: [{ name: "tmp", emptyDir: {} }] } : {}) },
    status: { phase: extra.phase ?? "Running" },
  } as Pod;
}

function cluster(podList: Pod[]) {
  const context = testContext({ namespace: "demo" });
  context.fake.seed(nodes, { metadata: { name: "n1" }, spec: {} } as Node);
  for (const item of podList) context.fake.seed(pods, item);
  return context;
}

describe("cordon and uncordon", () => {
  it("set spec.unschedulable and say already when nothing changes", async () => {
    const context = cluster([]);
    await cordon(context, parseArgs(["n1"], cordonFlags));
    await cordon(context, parseArgs(["node/n1"], cordonFlags));
    expect((await context.client.get<Node>(nodes, undefined, "n1")).spec?.unschedulable).toBe(true);
    await uncordon(context, parseArgs(["n1"], cordonFlags));
    await uncordon(context, parseArgs(["n1"], cordonFlags));
    expect((await context.client.get<Node>(nodes, undefined, "n1")).spec?.unschedulable).toBeUndefined();
    expect(context.out()).toBe("node/n1 cordoned\nnode/n1 already cordoned\nnode/n1 uncordoned\nnode/n1 already uncordoned\n");
  });
});

describe("drain", () => {
  it("sorts pods as kubectl's filters do", () => {
    const list = [pod("rs", { owner: "ReplicaSet" }), pod("ds", { owner: "DaemonSet" }), pod("bare"), pod("scratch", { owner: "ReplicaSet", emptyDir: true }), pod("done", { phase: "Succeeded" }), pod("static", { mirror: true })];
    const strict = planPods(list, drainOptionsOf(parseArgs(["n1"], drainFlags)));
    expect(strict.evict.map((item) => item.metadata.name)).toEqual(["rs", "done"]);
    expect([...strict.errors]).toEqual([
      ["DaemonSet-managed Pods (use --ignore-daemonsets to ignore)", ["demo/ds"]],
      ["cannot delete Pods that declare no controller (use --force to override)", ["demo/bare"]],
      ["Pods with local storage (use --delete-emptydir-data to override)", ["demo/scratch"]],
    ]);
    const lenient = planPods(list, drainOptionsOf(parseArgs(["n1", "--ignore-daemonsets", "--force", "--delete-emptydir-data"], drainFlags)));
    expect(lenient.evict.map((item) => item.metadata.name)).toEqual(["rs", "bare", "scratch", "done"]);
    expect(lenient.errors.size).toBe(0);
  });

  it("cordons, evicts through pods/eviction and says drained", async () => {
    const context = cluster([pod("web", { owner: "ReplicaSet" }), pod("elsewhere", { owner: "ReplicaSet", node: "n2" }), pod("ds", { owner: "DaemonSet" })]);
    expect(await drain(context, parseArgs(["n1", "--ignore-daemonsets", "--grace-period=5"], drainFlags), fast)).toBe(0);
    expect(context.out()).toBe("node/n1 cordoned\nevicting pod demo/web\npod/web evicted\nnode/n1 drained\n");
    expect(context.err()).toBe("Warning: ignoring DaemonSet-managed Pods: demo/ds\n");
    const evictions = context.fake.writes.filter((write) => write.verb === "createSubresource");
    expect(evictions.map((write) => [write.name, write.subresource, (write.object as { deleteOptions?: unknown }).deleteOptions])).toEqual([["web", "eviction", { gracePeriodSeconds: 5 }]]);
  });

  it("retries an eviction a disruption budget refuses, and fails a node whose pods the filters refuse", async () => {
    const context = cluster([pod("web", { owner: "ReplicaSet" })]);
    let refusals = 2;
    context.fake.addReactor((verb) => (verb === "createSubresource" && refusals-- > 0 ? newTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0) : undefined));
    expect(await drain(context, parseArgs(["n1"], drainFlags), fast)).toBe(0);
    expect(context.err()).toBe(`error when evicting pods/"web" -n "demo" (will retry after 0.001s): Cannot evict pod as it would violate the pod's disruption budget.\n`.repeat(2));
    const refused = cluster([pod("bare")]);
    expect(await drain(refused, parseArgs(["n1"], drainFlags), fast)).toBe(1);
    expect(refused.err()).toBe(
      'error: unable to drain node "n1" due to error: cannot delete cannot delete Pods that declare no controller (use --force to override): demo/bare, continuing command...\n' +
        "There are pending nodes to be drained:\n n1\ncannot delete cannot delete Pods that declare no controller (use --force to override): demo/bare\n",
    );
  });
});
