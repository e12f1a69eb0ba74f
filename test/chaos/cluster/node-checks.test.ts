import { describe, expect, it } from "vitest";
import { duplicateIdentities, restartsBetween, runningSandboxes, type PodSnapshot, type RunningSandbox } from "./node-checks.ts";

function snapshot(pods: Record<string, { uid: string; containers: Record<string, [string, number]> }>): PodSnapshot {
  return new Map(Object.entries(pods).map(([name, pod]) => [name, { uid: pod.uid, containers: new Map(Object.entries(pod.containers).map(([container, [containerId, restartCount]]) => [container, { containerId, restartCount }])) }]));
}

function sandbox(host: string, podName: string, podUid: string, namespace = "default"): RunningSandbox {
  return { host, namespace, podName, podUid };
}

describe("restartsBetween", () => {
  const before = snapshot({ "default/web-0": { uid: "u1", containers: { httpd: ["containerd://a", 0] } } });

  it("finds nothing when every pod kept its UID, container ID and restart count", () => {
    expect(restartsBetween(before, snapshot({ "default/web-0": { uid: "u1", containers: { httpd: ["containerd://a", 0] } }, "default/new": { uid: "u9", containers: {} } }))).toEqual([]);
  });

  it("reports a restart counted by the agent", () => {
    expect(restartsBetween(before, snapshot({ "default/web-0": { uid: "u1", containers: { httpd: ["containerd://b", 1] } } }))).toEqual(["pod default/web-0 container httpd restarted (0 -> 1)"]);
  });

  it("reports a container replaced without a counted restart", () => {
    expect(restartsBetween(before, snapshot({ "default/web-0": { uid: "u1", containers: { httpd: ["containerd://b", 0] } } }))).toEqual(["pod default/web-0 container httpd has a new container ID"]);
  });

  it("reports a pod replaced by one of the same name", () => {
    expect(restartsBetween(before, snapshot({ "default/web-0": { uid: "u2", containers: { httpd: ["containerd://a", 0] } } }))).toEqual(["pod default/web-0 was replaced or removed"]);
  });
});

describe("runningSandboxes", () => {
  it("keeps running sandboxes with their CRI annotations and skips containers and stopped ones", () => {
    const listing = JSON.stringify([
      { id: "s1", status: "running", annotations: { "io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.sandbox-name": "chaos-sts-0", "io.kubernetes.cri.sandbox-namespace": "default", "io.kubernetes.cri.sandbox-uid": "u1" } },
      { id: "c1", status: "running", annotations: { "io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.sandbox-name": "chaos-sts-0" } },
      { id: "s2", status: "stopped", annotations: { "io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.sandbox-name": "chaos-sts-1" } },
    ]);
    expect(runningSandboxes("a1", listing)).toEqual([sandbox("a1", "chaos-sts-0", "u1")]);
  });

  it("reads runc's null (nothing runs) as no sandboxes", () => {
    expect(runningSandboxes("a1", "null")).toEqual([]);
  });
});

describe("duplicateIdentities", () => {
  it("is quiet when each identity runs once", () => {
    expect(duplicateIdentities([sandbox("a1", "chaos-sts-0", "u1"), sandbox("a2", "chaos-sts-1", "u2"), sandbox("a2", "hello-x", "u3")], "default", "chaos-sts")).toEqual([]);
  });

  it("reports one identity running as two pods on two hosts", () => {
    expect(duplicateIdentities([sandbox("a1", "chaos-sts-0", "u1"), sandbox("a2", "chaos-sts-0", "u2")], "default", "chaos-sts")).toEqual(["default/chaos-sts-0 runs 2 times at once: u1@a1, u2@a2"]);
  });

  it("ignores other namespaces and names that only share the prefix", () => {
    expect(duplicateIdentities([sandbox("a1", "chaos-sts-0", "u1"), sandbox("a2", "chaos-sts-0", "u2", "other"), sandbox("a1", "chaos-sts-web", "u3"), sandbox("a2", "chaos-sts-web", "u4")], "default", "chaos-sts")).toEqual([]);
  });
});
