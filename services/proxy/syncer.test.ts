import { describe, expect, it } from "vitest";
import type { EndpointSlice, Service } from "../../libs/api/index.ts";
import { createLogger } from "../../libs/log/index.ts";
import { desiredState } from "./ruleset.ts";
import { servicePorts } from "./model.ts";
import { ProxySyncer } from "./syncer.ts";

const log = createLogger("syncer-test", { level: "silent" });
const config = { clusterCidr: "10.244.0.0/16" };

function service(name: string, clusterIp: string): Service {
  return { apiVersion: "v1", kind: "Service", metadata: { name, namespace: "default" }, spec: { clusterIP: clusterIp, ports: [{ name: "http", port: 80, protocol: "TCP" }] } };
}

function slice(name: string, ips: string[]): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: `${name}-x`, namespace: "default", labels: { "kubernetes.io/service-name": name } },
    addressType: "IPv4",
    endpoints: ips.map((ip) => ({ addresses: [ip] })),
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
  };
}

function recordingSyncer(fail: () => boolean = () => false): { syncer: ProxySyncer; scripts: string[] } {
  const scripts: string[] = [];
  const syncer = new ProxySyncer({
    nodeName: "n1",
    ...config,
    log,
    nft: (script) => {
      scripts.push(script);
      return fail() ? Promise.reject(new Error("nft refused")) : Promise.resolve();
    },
  });
  return { syncer, scripts };
}

describe("ProxySyncer", () => {
  it("writes the whole table first, then only the service an endpoint change touched", async () => {
    const { syncer, scripts } = recordingSyncer();
    syncer.onService({ type: "upsert", object: service("a", "10.96.0.5") });
    syncer.onService({ type: "upsert", object: service("b", "10.96.0.6") });
    syncer.onEndpointSlice({ type: "upsert", object: slice("a", ["10.244.1.2"]) });
    syncer.onEndpointSlice({ type: "upsert", object: slice("b", ["10.244.2.2"]) });
    await syncer.syncNow();
    expect(scripts).toHaveLength(1);
    expect(scripts[0]).toContain("delete table ip flotilla_proxy");
    syncer.onEndpointSlice({ type: "upsert", object: slice("a", ["10.244.1.2", "10.244.1.3"]) });
    await syncer.syncNow();
    expect(scripts[1]).toContain("dnat to 10.244.1.3:8080");
    expect(scripts[1]).not.toContain("10.96.0.6");
    expect(scripts[1]).not.toContain("delete table");
    syncer.close();
  });

  it("keeps in place exactly the rules a full computation gives, through changes and deletes", async () => {
    const { syncer } = recordingSyncer();
    syncer.onService({ type: "upsert", object: service("a", "10.96.0.5") });
    syncer.onService({ type: "upsert", object: service("b", "10.96.0.6") });
    syncer.onEndpointSlice({ type: "upsert", object: slice("a", ["10.244.1.2"]) });
    await syncer.syncNow();
    syncer.onEndpointSlice({ type: "upsert", object: slice("b", ["10.244.2.2", "10.244.2.3"]) });
    syncer.onService({ type: "delete", object: service("a", "10.96.0.5") });
    await syncer.syncNow();
    const expected = desiredState(servicePorts({ services: [service("b", "10.96.0.6")], slices: [slice("a", ["10.244.1.2"]), slice("b", ["10.244.2.2", "10.244.2.3"])], nodeName: "n1" }), config);
    expect(syncer.applied).toEqual(expected);
    syncer.close();
  });

  it("rebuilds the whole table after a failed transaction", async () => {
    let failNext = false;
    const { syncer, scripts } = recordingSyncer(() => failNext);
    syncer.onService({ type: "upsert", object: service("a", "10.96.0.5") });
    syncer.onEndpointSlice({ type: "upsert", object: slice("a", ["10.244.1.2"]) });
    await syncer.syncNow();
    failNext = true;
    syncer.onEndpointSlice({ type: "upsert", object: slice("a", ["10.244.1.3"]) });
    await expect(syncer.syncNow()).rejects.toThrow("proxy sync failed");
    failNext = false;
    await syncer.syncNow();
    expect(scripts.at(-1)).toContain("delete table ip flotilla_proxy");
    expect(scripts.at(-1)).toContain("dnat to 10.244.1.3:8080");
    syncer.close();
  });
});
