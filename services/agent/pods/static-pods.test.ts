import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Pod, PodStatus } from "../../../libs/api/index.ts";
import type { NodeWatchEvent } from "../control-plane.ts";
import { MemoryControlPlane } from "../memory-control-plane.ts";
import { FakeRuntime } from "./fake-runtime.ts";
import { PodManager } from "./pod-manager.ts";
import { configMirrorAnnotation, isMirrorPod, mirrorPodOf, StaticPodSource, staticPodFromManifest } from "./static-pods.ts";
import { silentLogger } from "./worker-context.ts";

const image = "docker.io/flotilla/busybox:1";
const manifest = (command: string): string =>
  `apiVersion: v1\nkind: Pod\nmetadata: { name: etcd, namespace: kube-system }\nspec:\n  containers: [{ name: main, image: ${image}, imagePullPolicy: IfNotPresent, command: ["${command}"] }]\n`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "fl-static-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("static pod manifests", () => {
  it("a manifest becomes a pod named after the node, bound to it, with a uid from node, file and content", () => {
    const pod = staticPodFromManifest(manifest("sleep"), "etcd.yaml", "node-a");
    expect(pod.metadata).toMatchObject({ name: "etcd-node-a", namespace: "kube-system", annotations: { "kubernetes.io/config.source": "file" } });
    expect(pod.spec?.nodeName).toBe("node-a");
    expect(staticPodFromManifest(manifest("sleep"), "etcd.yaml", "node-a").metadata?.uid).toBe(pod.metadata?.uid);
    expect(staticPodFromManifest(manifest("true"), "etcd.yaml", "node-a").metadata?.uid).not.toBe(pod.metadata?.uid);
    expect(staticPodFromManifest(manifest("sleep"), "etcd.yaml", "node-b").metadata?.uid).not.toBe(pod.metadata?.uid);
  });

  it("a manifest that is not a Pod, or has no name or containers, is refused", () => {
    expect(() => staticPodFromManifest("kind: Service\nmetadata: { name: x }\n", "x.yaml", "n")).toThrow('kind is "Service"');
    expect(() => staticPodFromManifest("kind: Pod\nmetadata: {}\nspec: { containers: [{ name: a }] }\n", "x.yaml", "n")).toThrow("metadata.name is required");
    expect(() => staticPodFromManifest("kind: Pod\nmetadata: { name: x }\n", "x.yaml", "n")).toThrow("spec.containers is required");
  });

  it("the mirror pod carries the hash as kubernetes.io/config.mirror and no uid", () => {
    const mirror = mirrorPodOf(staticPodFromManifest(manifest("sleep"), "etcd.yaml", "node-a"));
    expect(isMirrorPod(mirror)).toBe(true);
    expect(mirror.metadata?.uid).toBeUndefined();
    expect(mirror.metadata?.annotations?.[configMirrorAnnotation]).toBe(mirror.metadata?.annotations?.["kubernetes.io/config.hash"]);
  });
});

describe("static pod source", () => {
  function source(mirrorCalls: string[], failMirrors: () => boolean): { events: NodeWatchEvent<Pod>[]; pods: StaticPodSource } {
    const events: NodeWatchEvent<Pod>[] = [];
    const pods = new StaticPodSource({
      dir,
      nodeName: "node-a",
      onPod: (event) => events.push(event),
      syncMirror: (mirror, remove) => {
        if (failMirrors()) return Promise.reject(new Error("control plane unreachable"));
        mirrorCalls.push(`${remove ? "remove" : "sync"} ${mirror.metadata?.name ?? ""}`);
        return Promise.resolve();
      },
      log: silentLogger,
    });
    return { events, pods };
  }

  it("a new file starts a pod, an edited file replaces it under the same name, a removed file stops it and its mirror", async () => {
    const mirrorCalls: string[] = [];
    const { events, pods } = source(mirrorCalls, () => false);
    writeFileSync(join(dir, "etcd.yaml"), manifest("sleep"));
    writeFileSync(join(dir, ".hidden.yaml"), manifest("sleep"));
    writeFileSync(join(dir, "notes.txt"), "not a manifest");
    pods.scan();
    await pods.syncMirrors();
    expect(events.map((event) => `${event.type} ${event.object.metadata?.name ?? ""}`)).toEqual(["upsert etcd-node-a"]);
    pods.scan();
    expect(events).toHaveLength(1);
    writeFileSync(join(dir, "etcd.yaml"), manifest("true"));
    pods.scan();
    await pods.syncMirrors();
    expect(events.map((event) => event.type)).toEqual(["upsert", "delete", "upsert"]);
    unlinkSync(join(dir, "etcd.yaml"));
    pods.scan();
    await pods.syncMirrors();
    expect(events.map((event) => event.type)).toEqual(["upsert", "delete", "upsert", "delete"]);
    expect(mirrorCalls).toEqual(["sync etcd-node-a", "sync etcd-node-a", "remove etcd-node-a"]);
  });

  it("pods start while the control plane is unreachable; their mirrors follow once it answers", async () => {
    const mirrorCalls: string[] = [];
    let unreachable = true;
    const { events, pods } = source(mirrorCalls, () => unreachable);
    writeFileSync(join(dir, "etcd.yaml"), manifest("sleep"));
    pods.scan();
    await pods.syncMirrors();
    expect(events).toHaveLength(1);
    expect(mirrorCalls).toEqual([]);
    unreachable = false;
    await pods.syncMirrors();
    expect(mirrorCalls).toEqual(["sync etcd-node-a"]);
  });
});

describe("static pods in the pod manager", () => {
  it("runs a static pod, reports its status to the mirror by name, and ignores the mirror coming back on the stream", async () => {
    const runtime = new FakeRuntime({ images: [image] });
    const reported: { name: string; uid: string; phase: PodStatus["phase"] }[] = [];
    const controlPlane = new MemoryControlPlane();
    const report = controlPlane.reportPodStatus.bind(controlPlane);
    controlPlane.reportPodStatus = (namespace, name, uid, status) => {
      reported.push({ name, uid, phase: status.phase });
      return report(namespace, name, uid, status);
    };
    const manager = new PodManager({ runtime, controlPlane, nodeName: "node-a", nodeIp: "192.168.1.10", dataDir: dir, mountTmpfs: false });
    const watch = new AbortController();
    void controlPlane.watchNode(manager.handlers(), watch.signal);
    const pod = staticPodFromManifest(manifest("sleep"), "etcd.yaml", "node-a");
    manager.staticPodHandler()({ type: "upsert", object: pod });
    controlPlane.sync({ pods: [{ ...mirrorPodOf(pod), metadata: { ...mirrorPodOf(pod).metadata, uid: "mirror-uid" } }] });
    await manager.syncAll();
    expect(manager.pods().map((known) => known.metadata?.uid)).toEqual([pod.metadata?.uid]);
    expect(runtime.calls.filter((call) => call.startsWith("runSandbox"))).toHaveLength(1);
    expect(reported.at(-1)).toEqual({ name: "etcd-node-a", uid: "", phase: "Running" });
    watch.abort();
  });
});
