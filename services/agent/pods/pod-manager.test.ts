import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Container, Pod } from "../../../libs/api/index.ts";
import { MemoryControlPlane } from "../memory-control-plane.ts";
import { FakeRuntime } from "./fake-runtime.ts";
import { PodManager, type PodManagerOptions } from "./pod-manager.ts";
import type { ProbeOutcome } from "./probes.ts";

const image = "docker.io/flotilla/busybox:1";

function makePod(name: string, containers: Container[], extra: Partial<NonNullable<Pod["spec"]>> = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", uid: `uid-${name}` },
    spec: { nodeName: "node-a", containers, ...extra },
  };
}

function container(name: string, more: Partial<Container> = {}): Container {
  return { name, image, imagePullPolicy: "IfNotPresent", command: ["sleep", "1000"], ...more };
}

let dataDir: string;
let nowMs: number;
let runtime: FakeRuntime;
let controlPlane: MemoryControlPlane;
let watch: AbortController;

function newManager(options: Partial<PodManagerOptions> = {}): PodManager {
  const manager = new PodManager({ runtime, controlPlane, nodeName: "node-a", nodeIp: "192.168.1.10", dataDir, nowMs: () => nowMs, mountTmpfs: false, ...options });
  void controlPlane.watchNode(manager.handlers(), watch.signal);
  return manager;
}

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "fl-pods-"));
  nowMs = 1_700_000_000_000;
  runtime = new FakeRuntime({ nowMs: () => nowMs, images: [image] });
  controlPlane = new MemoryControlPlane();
  watch = new AbortController();
});

afterEach(() => {
  watch.abort();
  rmSync(dataDir, { recursive: true, force: true });
});

function startCalls(): string[] {
  return runtime.calls.filter((call) => call.startsWith("startContainer") || call.startsWith("runSandbox"));
}

describe("pod workers", () => {
  it("syncAll() runs a pod's sandbox and container and reports Running with the sandbox's IP", async () => {
    const manager = newManager();
    controlPlane.sync({ pods: [makePod("web", [container("main")])] });
    await manager.syncAll();
    const status = controlPlane.status("default", "web");
    expect(status?.phase).toBe("Running");
    expect(status?.podIP).toMatch(/^10\.244\.0\.\d+$/);
    expect(status?.hostIP).toBe("192.168.1.10");
    expect(status?.containerStatuses?.[0]?.state?.running).toBeDefined();
    expect(status?.containerStatuses?.[0]?.ready).toBe(true);
    expect(status?.conditions?.find((condition) => condition.type === "Ready")?.status).toBe("True");
    expect(startCalls()).toEqual(["runSandbox default/web", "startContainer main/0"]);
  });

  it("a second sync of a converged pod writes nothing and starts nothing", async () => {
    const manager = newManager();
    controlPlane.sync({ pods: [makePod("web", [container("main")])] });
    await manager.syncAll();
    const writes = controlPlane.statuses.get("default/web")?.length;
    const calls = runtime.calls.length;
    nowMs += 5_000;
    await manager.syncAll();
    expect(controlPlane.statuses.get("default/web")?.length).toBe(writes);
    expect(runtime.calls.length).toBe(calls);
  });

  it("runs init containers one at a time, in order, before any app container", async () => {
    const manager = newManager();
    controlPlane.sync({ pods: [makePod("init", [container("app")], { initContainers: [container("first"), container("second")] })] });
    await manager.syncAll();
    expect(controlPlane.status("default", "init")?.phase).toBe("Pending");
    expect(controlPlane.status("default", "init")?.containerStatuses?.[0]?.state?.waiting?.reason).toBe("PodInitializing");
    runtime.exitContainer(runtime.runningContainer("uid-init", "first")?.id ?? "", 0);
    await manager.syncAll();
    expect(runtime.runningContainer("uid-init", "app")).toBeUndefined();
    runtime.exitContainer(runtime.runningContainer("uid-init", "second")?.id ?? "", 0);
    await manager.syncAll();
    expect(startCalls()).toEqual(["runSandbox default/init", "startContainer first/0", "startContainer second/0", "startContainer app/0"]);
    const status = controlPlane.status("default", "init");
    expect(status?.phase).toBe("Running");
    expect(status?.initContainerStatuses?.map((init) => init.state?.terminated?.reason)).toEqual(["Completed", "Completed"]);
  });

  it("a failing init container under restartPolicy Never fails the pod", async () => {
    const manager = newManager();
    controlPlane.sync({ pods: [makePod("bad-init", [container("app")], { restartPolicy: "Never", initContainers: [container("setup")] })] });
    await manager.syncAll();
    runtime.exitContainer(runtime.runningContainer("uid-bad-init", "setup")?.id ?? "", 1);
    await manager.syncAll();
    expect(controlPlane.status("default", "bad-init")?.phase).toBe("Failed");
    expect(runtime.runningContainer("uid-bad-init", "app")).toBeUndefined();
  });

  it("backs off a crash-looping container: immediately, then 10 s, then 20 s", async () => {
    const manager = newManager();
    controlPlane.sync({ pods: [makePod("crash", [container("main")])] });
    await manager.syncAll();
    const crash = async (): Promise<void> => {
      runtime.exitContainer(runtime.runningContainer("uid-crash", "main")?.id ?? "", 1);
      await manager.syncAll();
    };
    await crash();
    expect(runtime.runningContainer("uid-crash", "main")).toBeDefined(); // first restart at once
    await crash();
    const waiting = controlPlane.status("default", "crash")?.containerStatuses?.[0];
    expect(waiting?.state?.waiting?.reason).toBe("CrashLoopBackOff");
    expect(waiting?.state?.waiting?.message).toContain("back-off 10s");
    expect(waiting?.lastState?.terminated?.exitCode).toBe(1);
    expect(waiting?.restartCount).toBe(1);
    nowMs += 9_000;
    await manager.syncAll();
    expect(runtime.runningContainer("uid-crash", "main")).toBeUndefined();
    nowMs += 1_000;
    await manager.syncAll();
    expect(runtime.runningContainer("uid-crash", "main")?.attempt).toBe(2);
    await crash();
    nowMs += 19_000;
    await manager.syncAll();
    expect(runtime.runningContainer("uid-crash", "main")).toBeUndefined();
    expect(controlPlane.status("default", "crash")?.containerStatuses?.[0]?.state?.waiting?.message).toContain("back-off 20s");
    nowMs += 1_000;
    await manager.syncAll();
    expect(runtime.runningContainer("uid-crash", "main")?.attempt).toBe(3);
    expect(controlPlane.status("default", "crash")?.containerStatuses?.[0]?.restartCount).toBe(3);
  });

  it("restartPolicy OnFailure restarts a failure but lets a success stay Succeeded", async () => {
    const manager = newManager();
    controlPlane.sync({ pods: [makePod("job", [container("main")], { restartPolicy: "OnFailure" })] });
    await manager.syncAll();
    runtime.exitContainer(runtime.runningContainer("uid-job", "main")?.id ?? "", 2);
    await manager.syncAll();
    expect(runtime.runningContainer("uid-job", "main")?.attempt).toBe(1);
    runtime.exitContainer(runtime.runningContainer("uid-job", "main")?.id ?? "", 0);
    await manager.syncAll();
    const status = controlPlane.status("default", "job");
    expect(status?.phase).toBe("Succeeded");
    expect(status?.containerStatuses?.[0]?.state?.terminated?.reason).toBe("Completed");
    expect(runtime.calls.at(-1)).toBe("stopSandbox default/job");
  });

  it("an agent restart adopts running pods from the runtime's labels: nothing restarted, nothing duplicated", async () => {
    const first = newManager();
    controlPlane.sync({ pods: [makePod("web", [container("main"), container("side")])] });
    await first.syncAll();
    const callsBefore = [...runtime.calls];
    watch.abort();
    watch = new AbortController();
    const second = newManager();
    controlPlane.sync({ pods: [makePod("web", [container("main"), container("side")])] });
    await second.syncAll();
    expect(runtime.calls).toEqual(callsBefore);
    expect(controlPlane.status("default", "web")?.phase).toBe("Running");
  });

  it("removes sandboxes of pods the node no longer has, only after the first full state", async () => {
    const first = newManager();
    controlPlane.sync({ pods: [makePod("gone", [container("main")]), makePod("kept", [container("main")])] });
    await first.syncAll();
    watch.abort();
    watch = new AbortController();
    const second = newManager();
    controlPlane.upsertPod(makePod("kept", [container("main")]));
    await second.syncAll();
    expect(runtime.calls).not.toContain("removeSandbox default/gone");
    controlPlane.sync();
    await second.syncAll();
    expect(runtime.calls).toContain("removeSandbox default/gone");
    expect(runtime.calls).not.toContain("removeSandbox default/kept");
  });

  it("graceful deletion runs preStop, stops containers, removes the sandbox, then confirms", async () => {
    const manager = newManager();
    const preStopCommands: string[][] = [];
    runtime.execHandler = (_container, command) => {
      preStopCommands.push([...command]);
      return { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exitCode: 0 };
    };
    const pod = makePod("bye", [container("main", { lifecycle: { preStop: { exec: { command: ["sh", "-c", "echo bye"] } } } })]);
    controlPlane.sync({ pods: [pod] });
    await manager.syncAll();
    controlPlane.upsertPod({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: "2026-11-22T00:00:00Z", deletionGracePeriodSeconds: 5 } });
    await manager.syncAll();
    expect(preStopCommands).toEqual([["sh", "-c", "echo bye"]]);
    const tail = runtime.calls.slice(-3);
    expect(tail).toEqual(["stopContainer main/0", "stopSandbox default/bye", "removeSandbox default/bye"]);
    expect(controlPlane.deleted).toEqual(["default/bye"]);
    expect(manager.pods()).toEqual([]);
  });

  it("reports ErrImagePull, then ImagePullBackOff while the pull backs off", async () => {
    const manager = newManager();
    runtime.unpullable.add("docker.io/library/missing:1");
    controlPlane.sync({ pods: [makePod("nopull", [container("main", { image: "missing:1" })])] });
    await manager.syncAll();
    expect(controlPlane.status("default", "nopull")?.containerStatuses?.[0]?.state?.waiting?.reason).toBe("ErrImagePull");
    expect(controlPlane.status("default", "nopull")?.phase).toBe("Pending");
    nowMs += 1_000;
    await manager.syncAll(); // the first retry goes at once and fails again
    await manager.syncAll();
    expect(controlPlane.status("default", "nopull")?.containerStatuses?.[0]?.state?.waiting?.reason).toBe("ImagePullBackOff");
    runtime.unpullable.clear();
    nowMs += 11_000;
    await manager.syncAll();
    expect(controlPlane.status("default", "nopull")?.containerStatuses?.[0]?.state?.running).toBeDefined();
  });

  it("a missing configMap key leaves the container waiting in CreateContainerConfigError until it appears", async () => {
    const manager = newManager();
    const pod = makePod("cfg", [container("main", { env: [{ name: "MODE", valueFrom: { configMapKeyRef: { name: "settings", key: "mode" } } }] })]);
    controlPlane.sync({ pods: [pod] });
    await manager.syncAll();
    const waiting = controlPlane.status("default", "cfg")?.containerStatuses?.[0]?.state?.waiting;
    expect(waiting).toEqual({ reason: "CreateContainerConfigError", message: 'configmap "settings" not found' });
    controlPlane.upsertConfigMap({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: "default" }, data: { mode: "fast" } });
    await manager.syncAll();
    expect(controlPlane.status("default", "cfg")?.phase).toBe("Running");
  });

  describe("probes", () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it("a failing liveness probe restarts the container; readiness gates Ready", async () => {
      const outcomes = new Map<string, ProbeOutcome>([
        ["live", { result: "success", message: "" }],
        ["ready", { result: "failure", message: "not yet" }],
      ]);
      const probeRunner = (probe: { exec?: { command?: string[] } }): Promise<ProbeOutcome> => Promise.resolve(outcomes.get(probe.exec?.command?.[0] ?? "") ?? { result: "failure", message: "?" });
      const manager = newManager({ probeRunner });
      const probes = {
        livenessProbe: { exec: { command: ["live"] }, periodSeconds: 1, failureThreshold: 2 },
        readinessProbe: { exec: { command: ["ready"] }, periodSeconds: 1 },
      };
      controlPlane.sync({ pods: [makePod("probed", [container("main", probes)])] });
      await manager.syncAll();
      await vi.advanceTimersByTimeAsync(3_000);
      await manager.syncAll();
      expect(controlPlane.status("default", "probed")?.conditions?.find((condition) => condition.type === "Ready")?.status).toBe("False");
      outcomes.set("ready", { result: "success", message: "" });
      await vi.advanceTimersByTimeAsync(1_000);
      await manager.syncAll();
      expect(controlPlane.status("default", "probed")?.conditions?.find((condition) => condition.type === "Ready")?.status).toBe("True");
      outcomes.set("live", { result: "failure", message: "dead" });
      await vi.advanceTimersByTimeAsync(2_000);
      await manager.syncAll();
      await manager.syncAll();
      expect(runtime.calls).toContain("stopContainer main/0");
      expect(runtime.runningContainer("uid-probed", "main")?.attempt).toBe(1);
      expect(controlPlane.events.some((event) => event.reason === "Unhealthy" && event.message.startsWith("Liveness probe failed"))).toBe(true);
    });
  });
});

describe("edge cases", () => {
  it("a container that fails to start is terminated with StartError and backs off", async () => {
    const manager = newManager();
    runtime.failStart.add("main");
    controlPlane.sync({ pods: [makePod("nostart", [container("main")])] });
    await manager.syncAll();
    expect(controlPlane.status("default", "nostart")?.containerStatuses?.[0]?.state?.terminated?.reason).toBe("StartError");
    await manager.syncAll(); // the first restart goes at once and fails again
    await manager.syncAll();
    expect(controlPlane.status("default", "nostart")?.containerStatuses?.[0]?.state?.waiting?.reason).toBe("CrashLoopBackOff");
    expect(controlPlane.events.filter((event) => event.reason === "Failed").length).toBe(2);
  });

  it("a changed spec image kills the running container and starts the new image", async () => {
    const manager = newManager();
    const pod = makePod("upgrade", [container("main")]);
    controlPlane.sync({ pods: [pod] });
    await manager.syncAll();
    const newer = "docker.io/flotilla/busybox:2";
    controlPlane.upsertPod({ ...pod, spec: { ...pod.spec, containers: [container("main", { image: newer })] } });
    await manager.syncAll();
    await manager.syncAll();
    const running = runtime.runningContainer("uid-upgrade", "main");
    expect(running?.image).toBe(newer);
    expect(running?.attempt).toBe(1);
    expect(runtime.calls).toContain(`pullImage ${newer}`);
  });

  it("the termination message file's content becomes the Terminated message", async () => {
    const { writeFileSync } = await import("node:fs");
    const manager = newManager();
    controlPlane.sync({ pods: [makePod("msg", [container("main")], { restartPolicy: "Never" })] });
    await manager.syncAll();
    writeFileSync(join(dataDir, "pods", "uid-msg", "containers", "main", "0"), "disk full");
    runtime.exitContainer(runtime.runningContainer("uid-msg", "main")?.id ?? "", 1);
    await manager.syncAll();
    expect(controlPlane.status("default", "msg")?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 1, reason: "Error", message: "disk full" });
  });

  it("an agent restart leaves a finished pod's stopped sandbox and containers alone", async () => {
    const first = newManager();
    const pod = makePod("done", [container("main")], { restartPolicy: "Never" });
    controlPlane.sync({ pods: [pod] });
    await first.syncAll();
    runtime.exitContainer(runtime.runningContainer("uid-done", "main")?.id ?? "", 0);
    await first.syncAll();
    const finalStatus = controlPlane.status("default", "done");
    expect(finalStatus?.phase).toBe("Succeeded");
    const callsBefore = [...runtime.calls];
    watch.abort();
    watch = new AbortController();
    const second = newManager();
    controlPlane.sync({ pods: [{ ...pod, status: finalStatus ?? {} }] });
    await second.syncAll();
    expect(runtime.calls).toEqual(callsBefore);
    expect(await runtime.listContainers({ labels: { "io.kubernetes.pod.uid": "uid-done" } })).toHaveLength(1);
  });

  it("a sidecar init container starts in its slot, keeps running, is restarted under Never, and does not hold the pod from Succeeded", async () => {
    const manager = newManager();
    const sidecar = container("proxy", { restartPolicy: "Always" });
    controlPlane.sync({ pods: [makePod("side", [container("app")], { restartPolicy: "Never", initContainers: [sidecar, container("setup")] })] });
    await manager.syncAll();
    await manager.syncAll();
    expect(runtime.runningContainer("uid-side", "proxy")).toBeDefined();
    runtime.exitContainer(runtime.runningContainer("uid-side", "setup")?.id ?? "", 0);
    await manager.syncAll();
    expect(startCalls()).toEqual(["runSandbox default/side", "startContainer proxy/0", "startContainer setup/0", "startContainer app/0"]);
    let status = controlPlane.status("default", "side");
    expect(status?.phase).toBe("Running");
    expect(status?.conditions?.find((condition) => condition.type === "Initialized")?.status).toBe("True");
    expect(status?.initContainerStatuses?.[0]?.state?.running).toBeDefined();
    runtime.exitContainer(runtime.runningContainer("uid-side", "proxy")?.id ?? "", 1);
    await manager.syncAll();
    expect(runtime.runningContainer("uid-side", "proxy")?.attempt).toBe(1);
    runtime.exitContainer(runtime.runningContainer("uid-side", "app")?.id ?? "", 0);
    await manager.syncAll();
    status = controlPlane.status("default", "side");
    expect(status?.phase).toBe("Succeeded");
    expect(runtime.calls.at(-1)).toBe("stopSandbox default/side");
  });

  it("a hostNetwork pod reports the node's IP as its pod IP", async () => {
    const manager = newManager();
    controlPlane.sync({ pods: [makePod("hostnet", [container("main")], { hostNetwork: true })] });
    await manager.syncAll();
    expect(controlPlane.status("default", "hostnet")?.podIP).toBe("192.168.1.10");
  });
});

describe("container stats", () => {
  it("podStats() sums the node's containers per pod", async () => {
    const { podStats } = await import("./stats.ts");
    const manager = newManager();
    controlPlane.sync({ pods: [makePod("pair", [container("a"), container("b")]), makePod("solo", [container("c")])] });
    await manager.syncAll();
    const usage = await podStats(runtime, "node-a");
    expect(usage.map((pod) => [pod.name, pod.containers.map((entry) => entry.name).sort()]).sort()).toEqual([
      ["pair", ["a", "b"]],
      ["solo", ["c"]],
    ]);
    expect(await podStats(runtime, "other-node")).toEqual([]);
  });
});
