import { describe, expect, it } from "vitest";
import { findResource } from "../../libs/api/index.ts";
import type { Node, Service } from "../../libs/api/index.ts";
import { FakeControllers } from "../controllers/common/testing.ts";
import { enableLbLabel, loadBalancerAddresses, ServiceLbController } from "./servicelb-controller.ts";

const nodesResource = findResource("", "v1", "nodes")!;
const servicesResource = findResource("", "v1", "services")!;

function node(name: string, internalIp: string, options: { ready?: boolean; externalIp?: string; enableLb?: string } = {}): Node {
  return {
    metadata: { name, ...(options.enableLb === undefined ? {} : { labels: { [enableLbLabel]: options.enableLb } }) },
    status: {
      conditions: [{ type: "Ready", status: options.ready === false ? "False" : "True" }],
      addresses: [{ type: "InternalIP", address: internalIp }, ...(options.externalIp === undefined ? [] : [{ type: "ExternalIP" as const, address: options.externalIp }])],
    },
  };
}

function service(name: string, spec: NonNullable<Service["spec"]>, status?: Service["status"]): Service {
  return { apiVersion: "v1", kind: "Service", metadata: { name, namespace: "web" }, spec, ...(status === undefined ? {} : { status }) };
}

const balancer = (name: string): Service => service(name, { type: "LoadBalancer", clusterIP: "10.96.0.20", ports: [{ port: 80, nodePort: 30080 }] });

function setup(nodes: Node[], services: Service[]) {
  const controllers = new FakeControllers();
  const client = controllers.fake.client;
  for (const seeded of nodes) client.seed<Node>(nodesResource, seeded);
  for (const seeded of services) client.seed<Service>(servicesResource, seeded);
  controllers.add(new ServiceLbController());
  return { controllers, client };
}

const statusWrites = (client: ReturnType<typeof setup>["client"]) => client.writes.filter((write) => write.resource === "services").map((write) => [write.verb, write.name, write.subresource, (write.object as Service).status]);

describe("servicelb: which nodes a LoadBalancer answers on", () => {
  it("takes every Ready node when none is labelled, preferring a node's ExternalIP", () => {
    expect(loadBalancerAddresses([node("b", "10.0.0.2"), node("a", "10.0.0.1", { externalIp: "203.0.113.1" }), node("c", "10.0.0.3", { ready: false })])).toEqual(["10.0.0.2", "203.0.113.1"]);
  });

  it("takes only the nodes labelled enablelb=true once one is, and never a node labelled false", () => {
    expect(loadBalancerAddresses([node("a", "10.0.0.1", { enableLb: "true" }), node("b", "10.0.0.2"), node("c", "10.0.0.3", { enableLb: "false" })])).toEqual(["10.0.0.1"]);
    expect(loadBalancerAddresses([node("b", "10.0.0.2"), node("c", "10.0.0.3", { enableLb: "false" })])).toEqual(["10.0.0.2"]);
  });
});

describe("servicelb controller", () => {
  it("lists the chosen nodes in a LoadBalancer's status and leaves other services and other classes alone", async () => {
    const classed = service("metallb", { type: "LoadBalancer", loadBalancerClass: "metallb.io/x", ports: [{ port: 80 }] });
    const { controllers, client } = setup([node("n1", "192.168.1.11"), node("n2", "192.168.1.12")], [balancer("lb"), service("plain", { type: "ClusterIP", ports: [{ port: 80 }] }), classed]);
    await controllers.settle();
    expect(statusWrites(client)).toEqual([["update", "lb", "status", { loadBalancer: { ingress: [{ ip: "192.168.1.11" }, { ip: "192.168.1.12" }] } }]]);
  });

  it("a second reconcile of a converged world writes nothing", async () => {
    const { controllers, client } = setup([node("n1", "192.168.1.11")], [balancer("lb")]);
    await controllers.settle();
    client.clearWrites();
    const controller = new ServiceLbController();
    controllers.add(controller);
    await controllers.settle();
    await controller.reconcile("web/lb");
    expect(client.writes).toEqual([]);
  });

  it("follows a node labelled enablelb=true, and clears the status of a Service that stops being a LoadBalancer", async () => {
    const { controllers, client } = setup([node("n1", "192.168.1.11"), node("n2", "192.168.1.12")], [balancer("lb")]);
    await controllers.settle();
    client.clearWrites();
    client.mutate<Node>(nodesResource, undefined, "n2", () => node("n2", "192.168.1.12", { enableLb: "true" }));
    await controllers.settle();
    expect(statusWrites(client)).toEqual([["update", "lb", "status", { loadBalancer: { ingress: [{ ip: "192.168.1.12" }] } }]]);
    client.clearWrites();
    client.mutate<Service>(servicesResource, "web", "lb", (current) => ({ ...current, spec: { ...current.spec, type: "ClusterIP" } }));
    await controllers.settle();
    expect(statusWrites(client)).toEqual([["update", "lb", "status", { loadBalancer: {} }]]);
  });
});
