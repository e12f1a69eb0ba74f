import { describe, expect, it } from "vitest";
import type { Pod } from "../../../libs/api/index.ts";
import { containerConfig, containerResources, podDnsConfig, sandboxConfig } from "./runtime-config.ts";
import { computePodStatus, qosClass } from "./status.ts";

const pod: Pod = {
  metadata: { name: "web", namespace: "shop", uid: "u-1", labels: { app: "web" }, annotations: { note: "n" } },
  spec: { containers: [{ name: "main", image: "busybox:1", ports: [{ containerPort: 8080, hostPort: 30080 }, { containerPort: 9090 }] }] },
};
const settings = { nodeName: "node-a", clusterDns: "10.96.0.10", clusterDomain: "cluster.local", logsDir: "/var/lib/flotilla/logs" };

describe("runtime configs from a pod", () => {
  it("the sandbox has the pod's hostname, ClusterFirst DNS, hostPort mappings, labels and annotations", () => {
    const config = sandboxConfig(pod, 0, settings);
    expect(config.hostname).toBe("web");
    expect(config.dns).toEqual({ servers: ["10.96.0.10"], searches: ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local"], options: ["ndots:5"] });
    expect(config.portMappings).toEqual([{ protocol: "TCP", containerPort: 8080, hostPort: 30080 }]);
    expect(config.labels).toMatchObject({ app: "web", "io.kubernetes.pod.uid": "u-1", "flotilla.io/node": "node-a" });
    expect(config.annotations).toMatchObject({ note: "n" });
    expect(config.logDirectory).toBe("/var/lib/flotilla/logs/shop_web_u-1");
  });

  it("dnsConfig options replace same-named defaults; dnsPolicy Default uses the host's", () => {
    const tuned: Pod = { ...pod, spec: { ...pod.spec, containers: pod.spec?.containers ?? [], dnsConfig: { options: [{ name: "ndots", value: "2" }], searches: ["corp.example"] } } };
    expect(podDnsConfig(tuned, "10.96.0.10", "cluster.local")?.options).toEqual(["ndots:2"]);
    expect(podDnsConfig(tuned, "10.96.0.10", "cluster.local")?.searches.at(-1)).toBe("corp.example");
    expect(podDnsConfig({ ...pod, spec: { ...pod.spec, containers: [], dnsPolicy: "Default" } }, "10.96.0.10", "cluster.local")).toBeUndefined();
  });

  it("limits become CFS quota and a memory limit; requests become cpu shares", () => {
    expect(containerResources({ name: "c", resources: { limits: { cpu: "500m", memory: "128Mi" }, requests: { cpu: "250m" } } })).toEqual({
      cpuShares: 256,
      cpuPeriodMicroseconds: 100_000,
      cpuQuotaMicroseconds: 50_000,
      memoryLimitBytes: 128 * 1024 * 1024,
    });
    expect(containerResources({ name: "c" })).toEqual({ cpuShares: 2 });
  });

  it("command and args expand $(VAR) from the environment; securityContext basics pass through", () => {
    const config = containerConfig({
      pod: { ...pod, spec: { ...pod.spec, containers: pod.spec?.containers ?? [], securityContext: { runAsUser: 1000 } } },
      container: { name: "main", command: ["echo", "$(GREETING)"], args: ["$(MISSING)"], workingDir: "/srv", securityContext: { readOnlyRootFilesystem: true, capabilities: { add: ["NET_ADMIN"] } } },
      kind: "app",
      attempt: 2,
      image: "busybox:1",
      env: [{ name: "GREETING", value: "hi" }],
      mounts: [],
      nodeName: "node-a",
    });
    expect(config.command).toEqual(["echo", "hi"]);
    expect(config.args).toEqual(["$(MISSING)"]);
    expect(config.workingDir).toBe("/srv");
    expect(config.logPath).toBe("main/2.log");
    expect(config.securityContext).toMatchObject({ runAsUser: 1000, readonlyRootfs: true, capabilities: { add: ["NET_ADMIN"], drop: [] } });
  });

  it("qosClass() is Guaranteed, Burstable or BestEffort as upstream", () => {
    expect(qosClass({ metadata: {}, spec: { containers: [{ name: "a", resources: { limits: { cpu: "1", memory: "1Gi" } } }] } })).toBe("Guaranteed");
    expect(qosClass({ metadata: {}, spec: { containers: [{ name: "a", resources: { requests: { cpu: "1" } } }] } })).toBe("Burstable");
    expect(qosClass({ metadata: {}, spec: { containers: [{ name: "a" }] } })).toBe("BestEffort");
  });

  it("computePodStatus() keeps a condition's transition time while its status holds", () => {
    const observation = { pod, initContainers: [], containers: [{ name: "main", image: "busybox:1", ready: false, started: false }], podIp: "", hostIp: "192.168.1.10", startTimeMs: undefined, initFailed: false, previousStatus: undefined, nowMs: 1_000_000 };
    const first = computePodStatus(observation);
    const second = computePodStatus({ ...observation, previousStatus: first, nowMs: 2_000_000 });
    expect(second.conditions).toEqual(first.conditions);
    expect(first.containerStatuses?.[0]?.state?.waiting?.reason).toBe("ContainerCreating");
    expect(first.phase).toBe("Pending");
  });
});
