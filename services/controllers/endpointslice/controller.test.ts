import { describe, expect, it } from "vitest";
import type { EndpointSlice, Endpoints, Pod, Service } from "../../../libs/api/index.ts";
import { endpointSlicesResource, endpointsResource, podsResource, servicesResource } from "../common/resources.ts";
import { FakeControllers } from "../common/testing.ts";
import { EndpointSliceController } from "./controller.ts";

function service(spec: Partial<NonNullable<Service["spec"]>> = {}, name = "web"): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: "default", uid: `uid-${name}` },
    spec: { selector: { app: "web" }, clusterIP: "10.96.0.20", ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }], ...spec },
  };
}

function pod(name: string, ip: string | undefined, ready: boolean, extra: Partial<NonNullable<Pod["spec"]>> = {}, port = 8080): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", uid: `uid-${name}`, labels: { app: "web" } },
    spec: { nodeName: "n1", containers: [{ name: "c", image: "x", ports: [{ name: "http", containerPort: port, protocol: "TCP" }] }], ...extra },
    status: { phase: "Running", ...(ip === undefined ? {} : { podIP: ip }), conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  };
}

function start(objects: { services: Service[]; pods: Pod[] }): { controllers: FakeControllers; controller: EndpointSliceController } {
  const controllers = new FakeControllers();
  for (const object of objects.services) controllers.fake.client.seed(servicesResource, object);
  for (const object of objects.pods) controllers.fake.client.seed(podsResource, object);
  const controller = controllers.add(new EndpointSliceController());
  for (const object of objects.services) controllers.queueOf(controller).add(`default/${object.metadata.name ?? ""}`);
  return { controllers, controller };
}

function slices(controllers: FakeControllers): EndpointSlice[] {
  return controllers.fake.client.storedAll<EndpointSlice>(endpointSlicesResource, "default");
}

describe("EndpointSliceController", () => {
  it("lists ready pods as addresses and the rest as not ready, resolving the named target port", async () => {
    const { controllers } = start({ services: [service()], pods: [pod("a", "10.244.1.2", true), pod("b", "10.244.1.3", false), pod("c", undefined, true), pod("d", "10.244.2.4", true, {}, 9090)] });
    await controllers.settle();
    const endpoints = controllers.fake.client.stored<Endpoints>(endpointsResource, "default", "web");
    expect(endpoints?.subsets?.map((subset) => [subset.ports?.[0]?.port, subset.addresses?.map((address) => address.ip), subset.notReadyAddresses?.map((address) => address.ip)])).toEqual([
      [8080, ["10.244.1.2"], ["10.244.1.3"]],
      [9090, ["10.244.2.4"], undefined],
    ]);
    const stored = slices(controllers).sort((x, y) => (x.ports?.[0]?.port ?? 0) - (y.ports?.[0]?.port ?? 0));
    expect(stored.map((slice) => [slice.ports?.[0]?.port, slice.endpoints.map((endpoint) => [endpoint.addresses[0], endpoint.conditions?.ready])])).toEqual([
      [8080, [["10.244.1.2", true], ["10.244.1.3", false]]],
      [9090, [["10.244.2.4", true]]],
    ]);
    expect(stored[0]?.metadata.labels).toMatchObject({ "kubernetes.io/service-name": "web", "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io" });
    expect(stored[0]?.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Service", name: "web", controller: true });
  });

  it("a second reconcile of a converged service writes nothing", async () => {
    const { controllers, controller } = start({ services: [service()], pods: [pod("a", "10.244.1.2", true)] });
    await controllers.settle();
    controllers.fake.client.clearWrites();
    await controller.reconcile("default/web");
    expect(controllers.fake.client.writes).toEqual([]);
  });

  it("updates the slice in place when a pod turns ready", async () => {
    const { controllers } = start({ services: [service()], pods: [pod("a", "10.244.1.2", false)] });
    await controllers.settle();
    const before = slices(controllers)[0]?.metadata.name;
    controllers.fake.client.clearWrites();
    controllers.fake.client.mutate<Pod>(podsResource, "default", "a", (current) => ({ ...current, status: { ...current.status, conditions: [{ type: "Ready", status: "True" }] } }));
    await controllers.settle();
    expect(controllers.fake.client.writes.map((write) => [write.verb, write.resource.split("/").pop()])).toEqual([
      ["update", "endpoints"],
      ["update", "endpointslices"],
    ]);
    expect(slices(controllers).map((slice) => [slice.metadata.name, slice.endpoints[0]?.conditions?.ready])).toEqual([[before, true]]);
  });

  it("names endpoints by hostname when the pod's subdomain is the service, and publishes not-ready pods when asked", async () => {
    const headless = service({ clusterIP: "None", publishNotReadyAddresses: true }, "db");
    const { controllers } = start({ services: [headless], pods: [pod("web-0", "10.244.1.7", false, { hostname: "web-0", subdomain: "db" })] });
    await controllers.settle();
    expect(slices(controllers)[0]?.endpoints[0]).toMatchObject({ addresses: ["10.244.1.7"], hostname: "web-0", conditions: { ready: true, serving: false } });
  });

  it("keeps an empty slice with the ports for a service without pods, and removes everything when the service goes", async () => {
    const { controllers } = start({ services: [service({ ports: [{ port: 80, targetPort: 8080 }] })], pods: [] });
    await controllers.settle();
    expect(slices(controllers).map((slice) => [slice.endpoints.length, slice.ports?.[0]?.port])).toEqual([[0, 8080]]);
    controllers.fake.client.remove(servicesResource, "default", "web");
    await controllers.settle();
    expect(slices(controllers)).toEqual([]);
    expect(controllers.fake.client.stored(endpointsResource, "default", "web")).toBeUndefined();
  });

  it("leaves services without a selector to their owner", async () => {
    const { controllers } = start({ services: [service({ selector: {} })], pods: [pod("a", "10.244.1.2", true)] });
    await controllers.settle();
    expect(controllers.fake.client.writes).toEqual([]);
  });
});
