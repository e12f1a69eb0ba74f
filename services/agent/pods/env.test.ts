import { describe, expect, it } from "vitest";
import type { Pod, Service } from "../../../libs/api/index.ts";
import { ContainerConfigError, containerEnvironment, expandVariables, serviceLinkVariables, type EnvSources } from "./env.ts";

const pod: Pod = {
  metadata: { name: "web-1", namespace: "shop", uid: "u-1", labels: { app: "web" }, annotations: { team: "blue" } },
  spec: {
    nodeName: "node-a",
    serviceAccountName: "builder",
    containers: [{ name: "main", resources: { limits: { cpu: "250m", memory: "64Mi" }, requests: { memory: "32Mi" } } }],
  },
};

const redis: Service = { metadata: { name: "redis-primary", namespace: "shop" }, spec: { clusterIP: "10.96.0.20", ports: [{ name: "redis", port: 6379, protocol: "TCP" }] } };
const headless: Service = { metadata: { name: "peers", namespace: "shop" }, spec: { clusterIP: "None", ports: [{ port: 80 }] } };

function sources(overrides: Partial<EnvSources> = {}): EnvSources {
  return {
    configMap: (namespace, name) => (namespace === "shop" && name === "settings" ? { metadata: { name }, data: { mode: "fast", level: "3" } } : undefined),
    secret: (namespace, name) => (namespace === "shop" && name === "creds" ? { metadata: { name }, data: { user: Buffer.from("admin").toString("base64") } } : undefined),
    services: () => [redis, headless],
    nodeIp: "192.168.1.10",
    podIp: "10.244.1.5",
    nodeAllocatable: { cpu: "4", memory: "8Gi" },
    ...overrides,
  };
}

function envOf(container: NonNullable<Pod["spec"]>["containers"][number], given = sources(), target: Pod = pod): Record<string, string> {
  return Object.fromEntries(containerEnvironment(target, container, given).map((variable) => [variable.name, variable.value]));
}

describe("container environment", () => {
  it("serviceLinkVariables() names host, port, named ports and docker links, skipping headless services", () => {
    const variables = Object.fromEntries(serviceLinkVariables([redis, headless]).map((variable) => [variable.name, variable.value]));
    expect(variables["REDIS_PRIMARY_SERVICE_HOST"]).toBe("10.96.0.20");
    expect(variables["REDIS_PRIMARY_SERVICE_PORT"]).toBe("6379");
    expect(variables["REDIS_PRIMARY_SERVICE_PORT_REDIS"]).toBe("6379");
    expect(variables["REDIS_PRIMARY_PORT"]).toBe("tcp://10.96.0.20:6379");
    expect(variables["REDIS_PRIMARY_PORT_6379_TCP_ADDR"]).toBe("10.96.0.20");
    expect(Object.keys(variables).some((name) => name.startsWith("PEERS_"))).toBe(false);
  });

  it("resolves value, configMapKeyRef, secretKeyRef, fieldRef and resourceFieldRef", () => {
    const env = envOf({
      name: "main",
      resources: { limits: { cpu: "250m", memory: "64Mi" } },
      env: [
        { name: "PLAIN", value: "x" },
        { name: "MODE", valueFrom: { configMapKeyRef: { name: "settings", key: "mode" } } },
        { name: "USER", valueFrom: { secretKeyRef: { name: "creds", key: "user" } } },
        { name: "NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
        { name: "HOST_IP", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
        { name: "CPU", valueFrom: { resourceFieldRef: { resource: "limits.cpu" } } },
        { name: "CPU_MILLI", valueFrom: { resourceFieldRef: { resource: "limits.cpu", divisor: "1m" } } },
        { name: "MEMORY_MI", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
      ],
    });
    expect(env).toMatchObject({ PLAIN: "x", MODE: "fast", USER: "admin", NAME: "web-1", APP: "web", POD_IP: "10.244.1.5", HOST_IP: "192.168.1.10", CPU: "1", CPU_MILLI: "250", MEMORY_MI: "64" });
  });

  it("a limit the container does not set falls back to the node's allocatable", () => {
    const env = envOf({ name: "main", env: [{ name: "MEMORY", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Gi" } } }] });
    expect(env["MEMORY"]).toBe("8");
  });

  it("envFrom adds prefixed keys and env overrides them; $(VAR) expands what came before", () => {
    const env = envOf({
      name: "main",
      envFrom: [{ configMapRef: { name: "settings" }, prefix: "CFG_" }, { secretRef: { name: "creds" } }],
      env: [
        { name: "CFG_MODE", value: "slow" },
        { name: "URL", value: "redis://$(REDIS_PRIMARY_SERVICE_HOST):$(REDIS_PRIMARY_SERVICE_PORT)/$(CFG_level)" },
        { name: "LITERAL", value: "$$(NOT) $(UNKNOWN)" },
      ],
    });
    expect(env["CFG_MODE"]).toBe("slow");
    expect(env["user"]).toBe("admin");
    expect(env["URL"]).toBe("redis://10.96.0.20:6379/3");
    expect(env["LITERAL"]).toBe("$(NOT) $(UNKNOWN)");
  });

  it("enableServiceLinks false leaves out service variables", () => {
    const env = envOf({ name: "main" }, sources(), { ...pod, spec: { ...pod.spec, containers: pod.spec?.containers ?? [], enableServiceLinks: false } });
    expect(Object.keys(env)).toEqual([]);
  });

  it("a missing configMap or key fails unless optional", () => {
    expect(() => envOf({ name: "main", env: [{ name: "A", valueFrom: { configMapKeyRef: { name: "absent", key: "k" } } }] })).toThrow(new ContainerConfigError('configmap "absent" not found'));
    expect(() => envOf({ name: "main", env: [{ name: "A", valueFrom: { configMapKeyRef: { name: "settings", key: "nope" } } }] })).toThrow("couldn't find key nope in ConfigMap shop/settings");
    expect(() => envOf({ name: "main", env: [{ name: "A", valueFrom: { secretKeyRef: { name: "absent", key: "k" } } }] })).toThrow('secret "absent" not found');
    const env = envOf({ name: "main", env: [{ name: "A", valueFrom: { configMapKeyRef: { name: "absent", key: "k", optional: true } } }], envFrom: [{ secretRef: { name: "gone", optional: true } }] });
    expect(env["A"]).toBeUndefined();
  });

  it("expandVariables() leaves unknown references as written", () => {
    expect(expandVariables("$(A)-$(B)-$$", new Map([["A", "1"]]))).toBe("1-$(B)-$");
  });
});
