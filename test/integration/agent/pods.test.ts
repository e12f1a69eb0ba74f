/**
 * The agent's pod half against a real containerd 1.6 in a network namespace (test/harness), fed
 * by an in-memory ControlPlane: pods as the node API would stream them, statuses and deletions
 * recorded. Needs root, containerd, runc and the CNI plugins.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomInt } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigMap, Container, Pod, PodStatus, Secret } from "../../../libs/api/index.ts";
import type { CriRuntime } from "../../../services/agent/cri/index.ts";
import { MemoryControlPlane, RecordingSession } from "../../../services/agent/memory-control-plane.ts";
import { PodManager } from "../../../services/agent/pods/index.ts";
import { busyboxImage, buildTestImages, ContainerdHost, unmountUnder } from "../../harness/containerd.ts";
import { NetworkLab } from "../../harness/netns.ts";
import { waitFor } from "../../harness/wait.ts";

const statusWaitMs = 30_000;
const resyncIntervalMs = 300;
const execTimeoutSeconds = 5;

let lab: NetworkLab;
let imagesDir: string;
let dataDir: string;
let containerd: ContainerdHost;
let runtime: CriRuntime;
let controlPlane: MemoryControlPlane;
let manager: PodManager;
let agentStop: AbortController;
let agentRun: Promise<void>;
let podSubnetPrefix: string;
const namespace = "agent-test";

function startAgent(): void {
  controlPlane = new MemoryControlPlane();
  agentStop = new AbortController();
  manager = new PodManager({ runtime, controlPlane, nodeName: "node-1", nodeIp: containerd.host.ip, dataDir, cgroupParent: containerd.cgroupParent, resyncIntervalMs });
  void controlPlane.watchNode(manager.handlers(), agentStop.signal);
  controlPlane.serveStreams(manager.streamHandler(), agentStop.signal);
  agentRun = manager.run(agentStop.signal);
}

async function stopAgent(): Promise<void> {
  agentStop.abort();
  await agentRun;
}

beforeAll(async () => {
  lab = NetworkLab.create(1);
  imagesDir = mkdtempSync(join(tmpdir(), "fl-images-"));
  dataDir = mkdtempSync(join(tmpdir(), "fl-agent-"));
  const images = await buildTestImages(imagesDir);
  podSubnetPrefix = `10.244.${randomInt(1, 255)}`;
  const host = lab.hosts[0];
  if (host === undefined) throw new Error("NetworkLab made no host");
  // The streaming server on the host's IP: this test process reaches it over the lab bridge.
  containerd = await ContainerdHost.start({ lab, host, podSubnet: `${podSubnetPrefix}.0/24`, images, streamServerAddress: host.ip });
  runtime = containerd.runtime;
  startAgent();
  controlPlane.sync({ configMaps: [settingsConfigMap("v1")], secrets: [credentialsSecret] });
});

afterAll(async () => {
  if (agentStop !== undefined) await stopAgent();
  await containerd?.stop();
  lab?.destroy();
  // Memory emptyDirs of pods still bound at the end are tmpfs mounts under dataDir.
  if (dataDir !== undefined) unmountUnder(dataDir);
  for (const dir of [imagesDir, dataDir]) if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

let podCounter = 0;
function pod(name: string, containers: Container[], spec: Partial<NonNullable<Pod["spec"]>> = {}): Pod {
  podCounter += 1;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, uid: `${lab.prefix}-${podCounter}-${name}`, labels: { app: name } },
    spec: { nodeName: "node-1", terminationGracePeriodSeconds: 5, containers, ...spec },
  };
}

function shell(name: string, script: string, more: Partial<Container> = {}): Container {
  return { name, image: busyboxImage, imagePullPolicy: "IfNotPresent", command: ["sh", "-c", script], ...more };
}

function settingsConfigMap(greeting: string): ConfigMap {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace }, data: { greeting, "mode.conf": "fast\n" } };
}

const credentialsSecret: Secret = { apiVersion: "v1", kind: "Secret", metadata: { name: "credentials", namespace }, data: { password: Buffer.from("s3cret").toString("base64") } };

async function waitStatus(target: Pod, accept: (status: PodStatus) => boolean, description: string): Promise<PodStatus> {
  return waitFor(
    () => {
      const status = controlPlane.status(namespace, target.metadata?.name ?? "");
      return status !== undefined && accept(status) ? status : undefined;
    },
    { timeoutMs: statusWaitMs, intervalMs: 100, description: `${target.metadata?.name ?? ""}: ${description}` },
  );
}

function runningId(status: PodStatus, name: string): string {
  const id = status.containerStatuses?.find((candidate) => candidate.name === name)?.containerID ?? "";
  return id.replace("containerd://", "");
}

async function execText(containerId: string, script: string): Promise<string> {
  const result = await runtime.execSync(containerId, ["sh", "-c", script], execTimeoutSeconds);
  return result.stdout.toString("utf8").trim();
}

const allRunning = (status: PodStatus): boolean => status.phase === "Running" && (status.containerStatuses ?? []).every((container) => container.state?.running !== undefined);

describe("pod workers on containerd", () => {
  it("runs a busybox pod: Running with an IP from the node's pod subnet", async () => {
    const web = pod("web", [shell("main", "sleep 1000")]);
    controlPlane.upsertPod(web);
    const status = await waitStatus(web, allRunning, "Running");
    expect(status.podIP?.startsWith(`${podSubnetPrefix}.`)).toBe(true);
    expect(status.conditions?.find((condition) => condition.type === "Ready")?.status).toBe("True");
    const resolv = await execText(runningId(status, "main"), "cat /etc/resolv.conf; hostname");
    expect(resolv).toContain("nameserver 10.96.0.10");
    expect(resolv).toContain(`search ${namespace}.svc.cluster.local svc.cluster.local cluster.local`);
    expect(resolv).toContain("web");
  });

  it("runs init containers in order, then the app, sharing an emptyDir", async () => {
    const ordered = pod("ordered", [shell("app", "sleep 1000", { volumeMounts: [{ name: "work", mountPath: "/work" }] })], {
      initContainers: [
        shell("first", "echo one >> /work/order", { volumeMounts: [{ name: "work", mountPath: "/work" }] }),
        shell("second", "echo two >> /work/order", { volumeMounts: [{ name: "work", mountPath: "/work" }] }),
      ],
      volumes: [{ name: "work", emptyDir: {} }],
    });
    controlPlane.upsertPod(ordered);
    const status = await waitStatus(ordered, allRunning, "Running after init");
    expect(status.initContainerStatuses?.map((init) => init.state?.terminated?.reason)).toEqual(["Completed", "Completed"]);
    expect(await execText(runningId(status, "app"), "cat /work/order")).toBe("one\ntwo");
  });

  it("serves configMap and secret as volumes and env, and propagates a configMap update", async () => {
    const configured = pod(
      "configured",
      [
        shell("main", "sleep 1000", {
          env: [
            { name: "GREETING", valueFrom: { configMapKeyRef: { name: "settings", key: "greeting" } } },
            { name: "PASSWORD", valueFrom: { secretKeyRef: { name: "credentials", key: "password" } } },
            { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          ],
          volumeMounts: [
            { name: "config", mountPath: "/etc/config" },
            { name: "secret", mountPath: "/etc/secret" },
          ],
        }),
      ],
      { volumes: [{ name: "config", configMap: { name: "settings" } }, { name: "secret", secret: { secretName: "credentials", defaultMode: 0o400 } }] },
    );
    controlPlane.upsertPod(configured);
    const status = await waitStatus(configured, allRunning, "Running");
    const id = runningId(status, "main");
    expect(await execText(id, 'echo "$GREETING $PASSWORD $POD_NAME"')).toBe("v1 s3cret configured");
    expect(await execText(id, "cat /etc/config/greeting /etc/config/mode.conf /etc/secret/password")).toBe("v1fast\ns3cret");
    expect(await execText(id, "stat -L -c %a /etc/secret/password")).toBe("400");
    controlPlane.upsertConfigMap(settingsConfigMap("v2"));
    await waitFor(async () => ((await execText(id, "cat /etc/config/greeting")) === "v2" ? true : undefined), { timeoutMs: statusWaitMs, description: "configMap update in the volume" });
  });

  it("shares an emptyDir between two containers of one pod", async () => {
    const volumeMounts = [{ name: "shared", mountPath: "/shared" }];
    const pair = pod("pair", [shell("writer", "echo hello > /shared/note; sleep 1000", { volumeMounts }), shell("reader", "sleep 1000", { volumeMounts })], {
      volumes: [{ name: "shared", emptyDir: {} }],
    });
    controlPlane.upsertPod(pair);
    const status = await waitStatus(pair, allRunning, "Running");
    const text = await waitFor(async () => ((await execText(runningId(status, "reader"), "cat /shared/note 2>/dev/null")) || undefined), { timeoutMs: statusWaitMs, description: "note written" });
    expect(text).toBe("hello");
  });

  it("mounts a Memory emptyDir as tmpfs, a downwardAPI volume and a subPath", async () => {
    const mounts = pod("mounts", [
      shell("main", "sleep 1000", {
        volumeMounts: [
          { name: "memory", mountPath: "/mem" },
          { name: "info", mountPath: "/info" },
          { name: "scratch", mountPath: "/deep", subPath: "a/b" },
        ],
      }),
    ], {
      volumes: [
        { name: "memory", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } },
        { name: "info", downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } },
        { name: "scratch", emptyDir: {} },
      ],
    });
    controlPlane.upsertPod(mounts);
    const status = await waitStatus(mounts, allRunning, "Running");
    const id = runningId(status, "main");
    expect(await execText(id, "grep ' /mem ' /proc/mounts | cut -d' ' -f3")).toBe("tmpfs");
    expect(await execText(id, "cat /info/labels")).toBe('app="mounts"');
    await execText(id, "echo deep > /deep/file");
    const uid = mounts.metadata?.uid ?? "";
    expect(readFileSync(join(dataDir, "pods", uid, "volumes", "scratch", "a", "b", "file"), "utf8")).toBe("deep\n");
  });

  it("restarts a container whose liveness probe fails", async () => {
    const unhealthy = pod("unhealthy", [shell("main", "sleep 1000", { livenessProbe: { exec: { command: ["test", "-f", "/tmp/alive"] }, periodSeconds: 1, failureThreshold: 1 } })]);
    controlPlane.upsertPod(unhealthy);
    const status = await waitStatus(unhealthy, (current) => (current.containerStatuses?.[0]?.restartCount ?? 0) >= 1, "restarted by liveness");
    expect(status.containerStatuses?.[0]?.lastState?.terminated).toBeDefined();
    expect(controlPlane.events.some((event) => event.pod === `${namespace}/unhealthy` && event.reason === "Unhealthy")).toBe(true);
  });

  it("holds Ready False until the readiness probe passes", async () => {
    const gated = pod("gated", [shell("main", "sleep 1000", { readinessProbe: { exec: { command: ["test", "-f", "/tmp/ready"] }, periodSeconds: 1 } })]);
    controlPlane.upsertPod(gated);
    const running = await waitStatus(gated, allRunning, "Running");
    expect(running.conditions?.find((condition) => condition.type === "Ready")?.status).toBe("False");
    expect(running.containerStatuses?.[0]?.ready).toBe(false);
    await execText(runningId(running, "main"), "touch /tmp/ready");
    await waitStatus(gated, (status) => status.conditions?.find((condition) => condition.type === "Ready")?.status === "True", "Ready");
  });

  it("backs off a crash-looping container", async () => {
    const crashing = pod("crashing", [shell("main", "echo crashed > /dev/termination-log; exit 3")]);
    controlPlane.upsertPod(crashing);
    const status = await waitStatus(crashing, (current) => current.containerStatuses?.[0]?.state?.waiting?.reason === "CrashLoopBackOff", "CrashLoopBackOff");
    const container = status.containerStatuses?.[0];
    expect(container?.lastState?.terminated?.exitCode).toBe(3);
    expect(container?.lastState?.terminated?.message).toBe("crashed\n");
    expect(container?.restartCount).toBe(1);
    expect(container?.state?.waiting?.message).toContain("back-off 10s");
  });

  it("deletes a pod gracefully: SIGTERM honoured at once, SIGKILL after the grace period, then confirmed", async () => {
    const polite = pod("polite", [shell("main", "trap 'exit 0' TERM; sleep 1000 & wait")]);
    const stubborn = pod("stubborn", [shell("main", "trap '' TERM; sleep 1000 & wait")], { terminationGracePeriodSeconds: 2 });
    controlPlane.upsertPod(polite);
    controlPlane.upsertPod(stubborn);
    await waitStatus(polite, allRunning, "Running");
    await waitStatus(stubborn, allRunning, "Running");
    const deleting = (target: Pod, graceSeconds: number): Pod => ({ ...target, metadata: { ...target.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: graceSeconds } });
    const startedAt = Date.now();
    controlPlane.upsertPod(deleting(polite, 10));
    controlPlane.upsertPod(deleting(stubborn, 2));
    await waitFor(() => (controlPlane.deleted.includes(`${namespace}/polite`) ? true : undefined), { timeoutMs: statusWaitMs, description: "polite deleted" });
    const politeMs = Date.now() - startedAt;
    await waitFor(() => (controlPlane.deleted.includes(`${namespace}/stubborn`) ? true : undefined), { timeoutMs: statusWaitMs, description: "stubborn deleted" });
    const stubbornMs = Date.now() - startedAt;
    expect(politeMs).toBeLessThan(5_000);
    expect(stubbornMs).toBeGreaterThanOrEqual(2_000);
    expect(stubbornMs).toBeLessThan(10_000);
    const left = await runtime.listSandboxes({ labels: { "io.kubernetes.pod.name": "stubborn" } });
    expect(left).toEqual([]);
  });

  it("serves logs from the CRI log file and exec through containerd's streaming server", async () => {
    const talker = pod("talker", [shell("main", "echo oops >&2; sleep 1; echo one; echo two; sleep 1000")]);
    controlPlane.upsertPod(talker);
    await waitStatus(talker, allRunning, "Running");
    const logs = await waitFor(
      async () => {
        const session = new RecordingSession({ kind: "log", namespace, podName: "talker", parameters: {} });
        controlPlane.openStream(session);
        await session.closed;
        return session.text(1).split("\n").length >= 4 ? session.text(1) : undefined;
      },
      { timeoutMs: statusWaitMs, description: "three log lines" },
    );
    // stdout and stderr are separate pipes: only the sleep orders the stderr line first.
    expect(logs).toBe("oops\none\ntwo\n");
    const tail = new RecordingSession({ kind: "log", namespace, podName: "talker", parameters: { tailLines: "1", timestamps: "true" } });
    controlPlane.openStream(tail);
    await tail.closed;
    expect(tail.text(1)).toMatch(/^\d{4}-\d\d-\d\dT[^ ]+Z two\n$/);

    const exec = new RecordingSession({ kind: "exec", namespace, podName: "talker", parameters: { command: ["sh", "-c", "head -c 5; echo; echo to-stderr >&2; exit 7"], stdin: "true" } });
    controlPlane.openStream(exec);
    exec.send(0, new TextEncoder().encode("hello"));
    await exec.closed;
    expect(exec.closeError).toBeUndefined();
    expect(exec.text(1)).toBe("hello\n");
    expect(exec.text(2)).toBe("to-stderr\n");
    expect(exec.text(3)).toContain('"ExitCode"');
    expect(exec.text(3)).toContain('"7"');

    // `kubectl exec -i talker -- cat`: the command ends when stdin ends (v5's close of channel 0).
    const cat = new RecordingSession({ kind: "exec", namespace, podName: "talker", parameters: { command: ["cat"], stdin: "true" } });
    controlPlane.openStream(cat);
    cat.send(0, new TextEncoder().encode("line one\n"));
    cat.send(0, new TextEncoder().encode("line two\n"));
    cat.send(255, Uint8Array.of(0));
    await cat.closed;
    expect(cat.closeError).toBeUndefined();
    expect(cat.text(1)).toBe("line one\nline two\n");
    expect(JSON.parse(cat.text(3))).toMatchObject({ status: "Success" });
  });

  it("forwards a port of the pod through containerd's streaming server", async () => {
    const server = pod("server", [shell("main", "mkdir -p /www && echo forwarded > /www/index.html && httpd -f -p 8080 -h /www")]);
    controlPlane.upsertPod(server);
    const status = await waitStatus(server, allRunning, "Running");
    await waitFor(async () => ((await execText(runningId(status, "main"), "wget -q -O - http://127.0.0.1:8080/ 2>/dev/null")) === "forwarded" ? true : undefined), { timeoutMs: statusWaitMs, description: "httpd up" });
    const forward = new RecordingSession({ kind: "portforward", namespace, podName: "server", parameters: { ports: ["8080"] } });
    controlPlane.openStream(forward);
    forward.send(0, new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
    await waitFor(() => (Buffer.concat(forward.writes.filter((write) => write.channel === 0).map((write) => write.data)).toString("latin1").includes("forwarded") ? true : undefined), {
      timeoutMs: 10_000,
      description: "the page through the forwarded port",
    });
    const dataFrames = forward.writes.filter((write) => write.channel === 0);
    // The streaming server's first frame on a channel names the port, little-endian.
    expect(Buffer.from(dataFrames[0]?.data ?? []).readUInt16LE(0)).toBe(8080);
    forward.close();
  });

  it("survives a containerd crash and restart: pods keep running, nothing is restarted", async () => {
    const before = await runtime.listContainers({ state: "Running" });
    await containerd.kill();
    await containerd.restart();
    const web = manager.pod(namespace, "web");
    if (web === undefined) throw new Error("web is not bound here");
    await waitFor(async () => ((await runtime.listContainers({ state: "Running" })).length >= before.length ? true : undefined), { timeoutMs: statusWaitMs, description: "containers listed again" });
    await manager.syncAll();
    const after = await runtime.listContainers({ state: "Running" });
    const steady = (list: { id: string; labels: Readonly<Record<string, string>> }[]): string[] =>
      list.filter((item) => !["crashing", "unhealthy"].includes(item.labels["io.kubernetes.pod.name"] ?? "")).map((item) => item.id).sort();
    expect(steady(after)).toEqual(steady(before));
    expect(controlPlane.status(namespace, "web")?.phase).toBe("Running");
  });

  it("an agent restart restarts no container and duplicates no sandbox", async () => {
    const before = await runtime.listContainers({ state: "Running" });
    const sandboxesBefore = await runtime.listSandboxes({ state: "Ready" });
    const pods = manager.pods();
    await stopAgent();
    startAgent();
    controlPlane.sync({ configMaps: [settingsConfigMap("v2")], secrets: [credentialsSecret], pods });
    await waitStatus(pods.find((candidate) => candidate.metadata?.name === "web") ?? pods[0] as Pod, allRunning, "web Running again");
    await manager.syncAll();
    await manager.syncAll();
    const after = await runtime.listContainers({ state: "Running" });
    const sandboxesAfter = await runtime.listSandboxes({ state: "Ready" });
    const ids = (list: { id: string }[]): string[] => list.map((item) => item.id).sort();
    // The crash-looping pod may restart its container on its own schedule; every other one is unchanged.
    const steady = (list: { id: string; labels: Readonly<Record<string, string>> }[]) => ids(list.filter((item) => item.labels["io.kubernetes.pod.name"] !== "crashing" && item.labels["io.kubernetes.pod.name"] !== "unhealthy"));
    expect(steady(after)).toEqual(steady(before));
    expect(ids(sandboxesAfter)).toEqual(ids(sandboxesBefore));
  });
});
