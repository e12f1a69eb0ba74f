import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FlagError } from "../../libs/flags/index.ts";
import { parseAgentFlags, parseTaint, type AgentConfig } from "./config.ts";
import { run } from "./main.ts";
import { MemoryControlPlane } from "./memory-control-plane.ts";
import { kubernetesArchitecture, nodeStatus, statusWithoutHeartbeats, type NodeFacts, type NodeIdentity } from "./node-status.ts";
import { waitFor } from "../../test/harness/wait.ts";

describe("flotilla agent flags", () => {
  it("parses labels, taints and the runtime", () => {
    const parsed = parseAgentFlags(["--server", "https://10.0.0.1:6443", "--node-name", "pi-1", "--node-ip", "10.0.0.7", "--labels", "zone=attic,disk=ssd", "--taints", "gpu=yes:NoSchedule", "--runtime", "fake"]);
    if (!("config" in parsed)) throw new Error("expected a config");
    expect(parsed.config).toMatchObject({ server: "https://10.0.0.1:6443", nodeName: "pi-1", nodeIp: "10.0.0.7", labels: { zone: "attic", disk: "ssd" }, taints: [{ key: "gpu", value: "yes", effect: "NoSchedule" }], runtime: "fake" });
  });

  it("runs the ingress proxy on 80 and 443 by default, on the given ports, and not at all with both at 0 or the fake runtime", () => {
    const configOf = (...args: string[]): AgentConfig => {
      const parsed = parseAgentFlags(["--server", "https://10.0.0.1:6443", ...args]);
      if (!("config" in parsed)) throw new Error("expected a config");
      return parsed.config;
    };
    expect(configOf().ingress).toEqual({ httpPort: 80, httpsPort: 443, bindAddress: "0.0.0.0" });
    expect(configOf("--ingress-http-port", "8080", "--ingress-https-port", "0").ingress).toEqual({ httpPort: 8080, httpsPort: 0, bindAddress: "0.0.0.0" });
    expect(configOf("--ingress-http-port", "0", "--ingress-https-port", "0").ingress).toBeUndefined();
    expect(configOf("--runtime", "fake").ingress).toBeUndefined();
    expect(() => configOf("--ingress-http-port", "70000")).toThrow(/ingress-http-port/);
  });

  it("refuses a missing --server, a bad taint and an unknown runtime, naming the flag", () => {
    expect(() => parseAgentFlags([])).toThrow(new FlagError("server", "is required (the control plane's URL)"));
    expect(() => parseTaint("gpu=yes")).toThrow(FlagError);
    expect(() => parseAgentFlags(["--server", "x", "--runtime", "docker"])).toThrow(/runtime/);
    expect(parseTaint("dedicated:NoExecute")).toEqual({ key: "dedicated", effect: "NoExecute" });
  });
});

const identity: NodeIdentity = { nodeName: "n", nodeIp: "10.0.0.7", hostname: "n", maxPods: 110, agentVersion: "v0.1.0-flotilla", kernelVersion: "6.1", osImage: "Debian", machineId: "m", bootId: "b", systemUuid: "s" };
const facts: NodeFacts = { cpuCount: 4, memoryBytes: 8 * 1024 ** 3, memoryAvailableBytes: 4 * 1024 ** 3, diskBytes: 100 * 1024 ** 3, diskAvailableBytes: 50 * 1024 ** 3, pidsInUse: 300, pidMax: 4_194_304, runtimeReady: true, runtimeMessage: "", runtimeVersion: "containerd://1.6.20", images: [] };

describe("node status", () => {
  it("reports capacity, allocatable, addresses, nodeInfo and healthy conditions", () => {
    const status = nodeStatus(identity, facts, undefined, 1_000_000);
    expect(status.capacity).toEqual({ cpu: "4", memory: "8388608Ki", pods: "110", "ephemeral-storage": "104857600Ki" });
    expect(status.allocatable?.["memory"]).toBe(`${8388608 - 102400}Ki`);
    expect(status.addresses).toContainEqual({ type: "InternalIP", address: "10.0.0.7" });
    expect(status.nodeInfo?.containerRuntimeVersion).toBe("containerd://1.6.20");
    expect(status.nodeInfo?.operatingSystem).toBe("linux");
    expect(Object.fromEntries((status.conditions ?? []).map((condition) => [condition.type, condition.status]))).toEqual({ Ready: "True", MemoryPressure: "False", DiskPressure: "False", PIDPressure: "False", NetworkUnavailable: "False" });
  });

  it("flags pressure and a runtime that is not ready, keeping transition times of unchanged conditions", () => {
    const first = nodeStatus(identity, facts, undefined, 1_000_000);
    const second = nodeStatus(identity, { ...facts, memoryAvailableBytes: 50 * 1024 ** 2, diskAvailableBytes: 1024 ** 3, runtimeReady: false, runtimeMessage: "down" }, first, 2_000_000);
    const byType = Object.fromEntries((second.conditions ?? []).map((condition) => [condition.type, condition]));
    expect(byType["MemoryPressure"]?.status).toBe("True");
    expect(byType["DiskPressure"]?.status).toBe("True");
    expect(byType["Ready"]).toMatchObject({ status: "False", reason: "KubeletNotReady", message: "down" });
    expect(byType["PIDPressure"]?.lastTransitionTime).toBe(first.conditions?.find((condition) => condition.type === "PIDPressure")?.lastTransitionTime);
    expect(statusWithoutHeartbeats(nodeStatus(identity, facts, first, 3_000_000))).toBe(statusWithoutHeartbeats(first));
  });

  it("names node's architectures as Kubernetes does", () => {
    expect(kubernetesArchitecture("x64")).toBe("amd64");
    expect(kubernetesArchitecture("arm64")).toBe("arm64");
  });
});

describe("run() with --runtime fake", () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), "fl-agent-run-"));
  });
  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("reports node status, renews the lease and runs a pod on the in-memory runtime", async () => {
    const controlPlane = new MemoryControlPlane();
    const config: AgentConfig = { server: "unused:6444", token: "", nodeName: "hollow-1", nodeIp: "10.0.0.9", labels: {}, taints: [], containerdSocket: "", dataDir, runtime: "fake", cgroupParent: "" };
    const stop = new AbortController();
    const running = run(config, stop.signal, controlPlane);
    await waitFor(() => (controlPlane.nodeStatuses.length > 0 && controlPlane.leaseRenewals > 0 ? true : undefined), { timeoutMs: 5_000, description: "node status and lease" });
    expect(controlPlane.nodeStatuses[0]?.conditions?.find((condition) => condition.type === "Ready")?.status).toBe("True");
    expect(controlPlane.nodeStatuses[0]?.nodeInfo?.containerRuntimeVersion).toBe("fake://0.1.0");
    controlPlane.sync({ pods: [{ metadata: { name: "p", namespace: "default", uid: "u-p" }, spec: { nodeName: "hollow-1", containers: [{ name: "c", image: "docker.io/flotilla/busybox:1", imagePullPolicy: "IfNotPresent" }] } }] });
    await waitFor(() => (controlPlane.status("default", "p")?.phase === "Running" ? true : undefined), { timeoutMs: 5_000, description: "pod Running" });
    stop.abort();
    await running;
  });
});
