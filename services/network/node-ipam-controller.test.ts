import { describe, expect, it } from "vitest";
import type { Node } from "../../libs/api/index.ts";
import { nodesResource } from "../controllers/common/resources.ts";
import { FakeControllers } from "../controllers/common/testing.ts";
import { enumerateSubnets, NodeIpamController } from "./node-ipam-controller.ts";

function node(name: string, podCIDR?: string): Node {
  return { apiVersion: "v1", kind: "Node", metadata: { name }, spec: podCIDR === undefined ? {} : { podCIDR, podCIDRs: [podCIDR] } };
}

function setup(nodes: Node[], clusterCidr = "10.244.0.0/16"): { controllers: FakeControllers; controller: NodeIpamController } {
  const controllers = new FakeControllers();
  for (const seeded of nodes) controllers.fake.client.seed(nodesResource, seeded);
  const controller = controllers.add(new NodeIpamController({ clusterCidr, nodeMaskBits: 24 }));
  for (const seeded of nodes) controllers.queueOf(controller).add(seeded.metadata.name ?? "");
  return { controllers, controller };
}

function podCidrs(controllers: FakeControllers): Record<string, string | undefined> {
  return Object.fromEntries(controllers.fake.client.storedAll<Node>(nodesResource).map((stored) => [stored.metadata.name, stored.spec?.podCIDR]));
}

describe("NodeIpamController", () => {
  it("gives each node a different /24, skipping the ones nodes already hold", async () => {
    const { controllers } = setup([node("a", "10.244.0.0/24"), node("b"), node("c")]);
    await controllers.settle();
    expect(podCidrs(controllers)).toEqual({ a: "10.244.0.0/24", b: "10.244.1.0/24", c: "10.244.2.0/24" });
  });

  it("never hands out a subnet twice while the cache lags behind its own writes", async () => {
    const { controllers, controller } = setup([node("b"), node("c")]);
    controllers.fake.informers.hold();
    await controller.reconcile("b");
    await controller.reconcile("c");
    controllers.fake.informers.release();
    expect(new Set(Object.values(podCidrs(controllers))).size).toBe(2);
  });

  it("a node reconciled again before the cache shows its subnet keeps that one subnet and one event", async () => {
    const { controllers, controller } = setup([node("b")]);
    controllers.fake.informers.hold();
    await controller.reconcile("b");
    await controller.reconcile("b");
    controllers.fake.informers.release();
    await controllers.settle();
    expect(controllers.fake.client.writes.filter((write) => write.verb === "patch")).toHaveLength(1);
    expect(controllers.fake.events.reasons().filter((reason) => reason === "CIDRAssignmentSucceeded")).toHaveLength(1);
    expect(podCidrs(controllers)).toEqual({ b: "10.244.0.0/24" });
  });

  it("does not give a second subnet to a node whose subnet a stale cache does not show yet", async () => {
    const { controllers, controller } = setup([node("b")]);
    controllers.fake.informers.hold();
    controllers.fake.client.seed(nodesResource, node("b", "10.244.7.0/24"));
    await controller.reconcile("b");
    controllers.fake.informers.release();
    expect(controllers.fake.client.writes.filter((write) => write.verb === "patch")).toEqual([]);
    expect(podCidrs(controllers)).toEqual({ b: "10.244.7.0/24" });
  });

  it("frees the subnet of a write that failed, so the retry gives the node the first free one", async () => {
    const { controllers, controller } = setup([node("b")]);
    let failuresLeft = 1;
    controllers.fake.client.addReactor((verb) => (verb === "patch" && failuresLeft-- > 0 ? new Error("etcdserver: request timed out") : undefined));
    await expect(controller.reconcile("b")).rejects.toThrow(/timed out/);
    await controller.reconcile("b");
    expect(podCidrs(controllers)).toEqual({ b: "10.244.0.0/24" });
    expect(controllers.fake.events.reasons()).toEqual(["CIDRAssignmentSucceeded"]);
  });

  it("reuses a deleted node's subnet", async () => {
    const { controllers } = setup([node("a", "10.244.0.0/24"), node("b", "10.244.1.0/24")]);
    controllers.fake.client.remove(nodesResource, undefined, "a");
    controllers.fake.client.seed(nodesResource, node("d"));
    await controllers.settle();
    expect(podCidrs(controllers)).toEqual({ b: "10.244.1.0/24", d: "10.244.0.0/24" });
  });

  it("a second reconcile of a node that has its subnet writes nothing", async () => {
    const { controllers, controller } = setup([node("a")]);
    await controllers.settle();
    controllers.fake.client.clearWrites();
    await controller.reconcile("a");
    expect(controllers.fake.client.writes).toEqual([]);
  });

  it("reports CIDRNotAvailable when the cluster CIDR is full", async () => {
    const { controllers, controller } = setup([node("a", "10.244.0.0/24"), node("b")], "10.244.0.0/24");
    await expect(controller.reconcile("b")).rejects.toThrow(/no free \/24/);
    expect(controllers.fake.events.reasons()).toContain("CIDRNotAvailable");
  });

  it("enumerates subnets and names the flag on a bad CIDR", () => {
    expect(enumerateSubnets("10.244.0.0/22", 24)).toEqual(["10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24", "10.244.3.0/24"]);
    expect(() => enumerateSubnets("10.244.0.0/25", 24)).toThrow(/--cluster-cidr/);
  });
});
