import { describe, expect, it } from "vitest";
import { findResource } from "../../libs/api/index.ts";
import type { Ingress, IngressClass, Node } from "../../libs/api/index.ts";
import { FakeControllers } from "../controllers/common/testing.ts";
import { IngressStatusController, ingressClassesResource, ingressesResource, readyNodeAddresses } from "./status-controller.ts";

const nodesResource = findResource("", "v1", "nodes")!;

function node(name: string, internalIp: string, ready: boolean): Node {
  return {
    metadata: { name },
    status: {
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
      addresses: [
        { type: "InternalIP", address: internalIp },
        { type: "Hostname", address: name },
      ],
    },
  };
}

function ingress(name: string, className?: string): Ingress {
  return { apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name, namespace: "web" }, spec: { ...(className === undefined ? {} : { ingressClassName: className }), rules: [{ host: "a.test" }] } };
}

function setup() {
  const controllers = new FakeControllers();
  const client = controllers.fake.client;
  client.seed<Node>(nodesResource, node("n2", "192.168.1.12", true));
  client.seed<Node>(nodesResource, node("n1", "192.168.1.11", true));
  client.seed<Node>(nodesResource, node("n3", "192.168.1.13", false));
  client.seed<Ingress>(ingressesResource, ingress("ours"));
  client.seed<Ingress>(ingressesResource, ingress("theirs", "nginx"));
  controllers.add(new IngressStatusController());
  return { controllers, client };
}

describe("ingress status controller", () => {
  it("readyNodeAddresses() takes InternalIPs of Ready nodes only, sorted", () => {
    expect(readyNodeAddresses([node("b", "10.0.0.2", true), node("a", "10.0.0.1", true), node("c", "10.0.0.3", false)])).toEqual(["10.0.0.1", "10.0.0.2"]);
  });

  it("writes the Ready nodes' addresses into our Ingresses' status and creates the default IngressClass", async () => {
    const { controllers, client } = setup();
    await controllers.settle();
    const statusWrites = client.writes.filter((write) => write.resource === "ingresses");
    expect(statusWrites.map((write) => [write.verb, write.name, write.subresource])).toEqual([["update", "ours", "status"]]);
    expect((statusWrites[0]?.object as Ingress).status).toEqual({ loadBalancer: { ingress: [{ ip: "192.168.1.11" }, { ip: "192.168.1.12" }] } });
    const classWrites = client.writes.filter((write) => write.resource === "ingressclasses");
    expect(classWrites.map((write) => [write.verb, write.name])).toEqual([["create", "flotilla"]]);
    const created = classWrites[0]?.object as IngressClass;
    expect(created.metadata.annotations).toEqual({ "ingressclass.kubernetes.io/is-default-class": "true" });
  });

  it("a second reconcile of a converged world writes nothing", async () => {
    const { controllers, client } = setup();
    await controllers.settle();
    client.clearWrites();
    const controller = new IngressStatusController();
    controllers.add(controller);
    await controllers.settle();
    await controller.reconcile("web/ours");
    expect(client.writes).toEqual([]);
  });

  it("a node becoming Ready updates the status, and a deleted IngressClass comes back", async () => {
    const { controllers, client } = setup();
    await controllers.settle();
    client.clearWrites();
    client.mutate<Node>(nodesResource, undefined, "n3", (current) => node(current.metadata.name ?? "", "192.168.1.13", true));
    await controllers.settle();
    const written = client.writes.find((write) => write.resource === "ingresses")?.object as Ingress | undefined;
    expect(written?.status?.loadBalancer?.ingress?.map((entry) => entry.ip)).toEqual(["192.168.1.11", "192.168.1.12", "192.168.1.13"]);
    client.clearWrites();
    await client.delete(ingressClassesResource, undefined, "flotilla");
    client.clearWrites();
    await controllers.settle();
    expect(client.writes.map((write) => [write.verb, write.resource, write.name])).toEqual([["create", "ingressclasses", "flotilla"]]);
  });
});
