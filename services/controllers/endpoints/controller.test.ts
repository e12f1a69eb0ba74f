import { describe, expect, it } from "vitest";
import type { Endpoints, EndpointSlice, Pod, Service } from "../../../libs/api/index.ts";
import { drainQueue, fakeControllerContext } from "../../../libs/client/fake-informers.ts";
import { endpointSlicesResource, endpointsResource, podsResource, servicesResource } from "../common/resources.ts";
import { runningReady } from "../common/testing.ts";
import { EndpointsController } from "./controller.ts";

function service(extra: Partial<NonNullable<Service["spec"]>> = {}): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "default" },
    spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }], clusterIP: "10.96.0.20", ...extra },
  };
}

function pod(name: string, ip: string, ready: boolean, containerPort = 8080): Pod {
  const base: Pod = {
    metadata: { name, namespace: "default", labels: { app: "web" } },
    spec: { containers: [{ name: "app", image: "nginx", ports: [{ name: "http", containerPort }] }] },
  };
  const running = runningReady(base, Date.UTC(2026, 0, 1), "node-1");
  running.status = { ...running.status, podIP: ip };
  if (!ready) running.status.conditions = [{ type: "Ready", status: "False" }];
  return running;
}

function setup(svc: Service = service()) {
  const fake = fakeControllerContext();
  const stored = fake.client.seed(servicesResource, svc);
  const controller = new EndpointsController();
  controller.setup(fake.context);
  const run = () => drainQueue(fake.queue, (key) => controller.reconcile(key));
  const endpoints = () => fake.client.stored<Endpoints>(endpointsResource, "default", "web");
  const slices = () => fake.client.storedAll<EndpointSlice>(endpointSlicesResource);
  return { ...fake, stored, controller, run, endpoints, slices };
}

describe("Endpoints and EndpointSlice controller", () => {
  it("lists ready and not-ready pods with their named target ports", async () => {
    const { client, run, endpoints, slices, stored } = setup();
    const ready = client.seed(podsResource, pod("web-1", "10.244.0.5", true));
    client.seed(podsResource, pod("web-2", "10.244.0.4", false));
    await run();
    expect(endpoints()?.subsets).toEqual([
      {
        ports: [{ name: "http", port: 8080, protocol: "TCP" }],
        addresses: [{ ip: "10.244.0.5", nodeName: "node-1", targetRef: { kind: "Pod", namespace: "default", name: "web-1", uid: ready.metadata.uid } }],
        notReadyAddresses: [{ ip: "10.244.0.4", nodeName: "node-1", targetRef: expect.objectContaining({ name: "web-2" }) as unknown }],
      },
    ]);
    const [slice] = slices();
    expect(slice?.metadata.labels).toEqual({ "kubernetes.io/service-name": "web", "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io" });
    expect(slice?.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Service", name: "web", uid: stored.metadata.uid });
    expect(slice?.ports).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);
    expect(slice?.endpoints.map((endpoint) => [endpoint.addresses[0], endpoint.conditions])).toEqual([
      ["10.244.0.4", { ready: false, serving: false, terminating: false }],
      ["10.244.0.5", { ready: true, serving: true, terminating: false }],
    ]);
  });

  it("a second reconcile writes nothing; a pod becoming ready moves its address", async () => {
    const { client, controller, run, endpoints } = setup();
    client.seed(podsResource, pod("web-1", "10.244.0.5", false));
    await run();
    client.clearWrites();
    await controller.reconcile("default/web");
    expect(client.writes).toEqual([]);
    client.mutate<Pod>(podsResource, "default", "web-1", (current) => ({ ...current, status: { ...current.status, conditions: [{ type: "Ready", status: "True" }] } }));
    await run();
    expect(endpoints()?.subsets?.[0]?.addresses?.map((address) => address.ip)).toEqual(["10.244.0.5"]);
    expect(client.writes.map((write) => [write.verb, write.resource])).toEqual([
      ["update", "endpoints"],
      ["update", "endpointslices"],
    ]);
  });

  it("publishNotReadyAddresses counts every pod ready; a headless Service is labelled so; hostnames for the subdomain", async () => {
    const { client, run, endpoints, slices } = setup(service({ clusterIP: "None", publishNotReadyAddresses: true }));
    const member = pod("db-0", "10.244.0.7", false);
    member.spec = { ...member.spec!, hostname: "db-0", subdomain: "web" };
    client.seed(podsResource, member);
    await run();
    expect(endpoints()?.subsets?.[0]?.addresses?.[0]).toMatchObject({ ip: "10.244.0.7", hostname: "db-0" });
    expect(endpoints()?.metadata.labels).toEqual({ "service.kubernetes.io/headless": "" });
    expect(slices()[0]?.endpoints[0]).toMatchObject({ hostname: "db-0", conditions: { ready: true, serving: false } });
  });

  it("groups pods whose named port resolves differently into separate subsets", async () => {
    const { client, run, endpoints } = setup();
    client.seed(podsResource, pod("old", "10.244.0.2", true, 8080));
    client.seed(podsResource, pod("new", "10.244.0.3", true, 9090));
    await run();
    expect(endpoints()?.subsets?.map((subset) => [subset.ports?.[0]?.port, subset.addresses?.map((address) => address.ip)])).toEqual([
      [8080, ["10.244.0.2"]],
      [9090, ["10.244.0.3"]],
    ]);
  });

  it("leaves a Service without a selector alone and removes the Endpoints of a deleted Service", async () => {
    const { client, run, endpoints } = setup(service({ selector: undefined as unknown as Record<string, string> }));
    await run();
    expect(client.writes).toEqual([]);
    client.mutate<Service>(servicesResource, "default", "web", (current) => ({ ...current, spec: { ...current.spec, selector: { app: "web" } } }));
    await run();
    expect(endpoints()).toBeDefined();
    client.remove(servicesResource, "default", "web");
    await run();
    expect(endpoints()).toBeUndefined();
  });
});
