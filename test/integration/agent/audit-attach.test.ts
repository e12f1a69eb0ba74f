/**
 * pods/attach on the agent against a real containerd 1.6 (CRI Attach over SPDY to its streaming
 * server), fed by an in-memory ControlPlane as test/integration/agent/pods.test.ts is: a
 * `stdin: true, stdinOnce: true` container running `cat` gets the session's stdin, and closing
 * stdin (v5's close of channel 0) ends it, so its output and a Success status arrive.
 * Needs root, containerd, runc and the CNI plugins.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { randomInt } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Pod } from "../../../libs/api/index.ts";
import { MemoryControlPlane, RecordingSession } from "../../../services/agent/memory-control-plane.ts";
import { PodManager } from "../../../services/agent/pods/index.ts";
import { busyboxImage, buildTestImages, ContainerdHost, unmountUnder } from "../../harness/containerd.ts";
import { NetworkLab } from "../../harness/netns.ts";
import { waitFor } from "../../harness/wait.ts";

const statusWaitMs = 30_000;
const resyncIntervalMs = 300;
const namespace = "attach-test";

describe("attach through containerd's streaming server", () => {
  let lab: NetworkLab;
  let imagesDir: string;
  let dataDir: string;
  let containerd: ContainerdHost;
  let controlPlane: MemoryControlPlane;
  let agentStop: AbortController;
  let agentRun: Promise<void>;

  beforeAll(async () => {
    lab = NetworkLab.create(1);
    imagesDir = mkdtempSync(join(tmpdir(), "fl-attach-images-"));
    dataDir = mkdtempSync(join(tmpdir(), "fl-attach-agent-"));
    const host = lab.hosts[0];
    if (host === undefined) throw new Error("NetworkLab made no host");
    const images = await buildTestImages(imagesDir);
    containerd = await ContainerdHost.start({ lab, host, podSubnet: `10.244.${randomInt(1, 255)}.0/24`, images, streamServerAddress: host.ip });
    controlPlane = new MemoryControlPlane();
    agentStop = new AbortController();
    const manager = new PodManager({ runtime: containerd.runtime, controlPlane, nodeName: "node-1", nodeIp: host.ip, dataDir, cgroupParent: containerd.cgroupParent, resyncIntervalMs });
    void controlPlane.watchNode(manager.handlers(), agentStop.signal);
    controlPlane.serveStreams(manager.streamHandler(), agentStop.signal);
    agentRun = manager.run(agentStop.signal);
    controlPlane.sync({});
  });

  afterAll(async () => {
    agentStop?.abort();
    await agentRun;
    await containerd?.stop();
    lab?.destroy();
    if (dataDir !== undefined) unmountUnder(dataDir);
    for (const dir of [imagesDir, dataDir]) if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("attach -i to a stdinOnce cat: the input comes back, closing stdin ends it with Success", async () => {
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "echo", namespace, uid: `${lab.prefix}-attach-echo` },
      spec: { nodeName: "node-1", restartPolicy: "Never", terminationGracePeriodSeconds: 1, containers: [{ name: "main", image: busyboxImage, imagePullPolicy: "IfNotPresent", command: ["cat"], stdin: true, stdinOnce: true }] },
    };
    controlPlane.upsertPod(pod);
    await waitFor(() => (controlPlane.status(namespace, "echo")?.containerStatuses?.[0]?.state?.running !== undefined ? true : undefined), { timeoutMs: statusWaitMs, description: "echo Running" });
    const attach = new RecordingSession({ kind: "attach", namespace, podName: "echo", parameters: { stdin: "true", stdout: "true", stderr: "true" } });
    controlPlane.openStream(attach);
    attach.send(0, new TextEncoder().encode("through attach\n"));
    await waitFor(() => (attach.text(1) === "through attach\n" ? true : undefined), { timeoutMs: statusWaitMs, description: "the echoed line" }).catch((error: unknown) => {
      const frames = attach.writes.map((write) => `${write.channel}:${Buffer.from(write.data).toString("utf8")}`).join(" | ");
      throw new Error(`${(error as Error).message}; frames: ${frames}; closed: ${String(attach.closeError?.message)}`);
    });
    attach.send(255, Uint8Array.of(0));
    await attach.closed;
    expect(attach.closeError).toBeUndefined();
    expect(attach.text(1)).toBe("through attach\n");
    expect(JSON.parse(attach.text(3))).toMatchObject({ status: "Success" });
  });
});
