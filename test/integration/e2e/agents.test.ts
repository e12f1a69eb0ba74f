/**
 * End to end on the one-machine testbed (1 server, 2 agent hosts, real containerd): the agent
 * paths issue 6 still lacked. `kubectl exec -i pod -- cat` ends when stdin ends; a StatefulSet's
 * local-path volume keeps its data across a pod deletion; a generic ephemeral volume gets its own
 * claim, deleted with its pod; stopping an agent host (its agent and containerd killed) makes its
 * node NotReady and its Deployment pods are replaced on the other node. The server runs with a
 * 10 s node monitor grace period and the pods tolerate a lost node for 5 s, so the node-loss path
 * takes seconds rather than the defaults' minutes.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestbedCluster } from "../../harness/testbed.ts";
import { waitFor } from "../../harness/wait.ts";

const testbed = new TestbedCluster("g");
const nodeMonitorGracePeriod = "10s";
const lostNodeTolerationSeconds = 5;
const agents = (): ReturnType<TestbedCluster["agents"]> => testbed.agents();
const kubectl = async (...args: string[]): Promise<string> => testbed.kubectl(...args);
const kubectlIn = async (input: string, ...args: string[]): Promise<{ code: number; stdout: string }> => testbed.kubectlIn(input, ...args);

interface PodView {
  name: string;
  node: string;
  ready: boolean;
  terminating: boolean;
}

async function pods(selector: string): Promise<PodView[]> {
  const list = JSON.parse(await kubectl("get", "pods", "-l", selector, "-o", "json")) as {
    items: { metadata: { name: string; deletionTimestamp?: string }; spec: { nodeName?: string }; status: { conditions?: { type: string; status: string }[] } }[];
  };
  return list.items.map((item) => ({
    name: item.metadata.name,
    node: item.spec.nodeName ?? "",
    ready: item.status.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") === true,
    terminating: item.metadata.deletionTimestamp !== undefined,
  }));
}

function manifests(): string {
  const tolerations = ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]
    .map((key) => `{ key: ${key}, operator: Exists, effect: NoExecute, tolerationSeconds: ${lostNodeTolerationSeconds} }`)
    .join(", ");
  return `
apiVersion: apps/v1
kind: Deployment
metadata: { name: spread }
spec:
  replicas: 2
  selector: { matchLabels: { app: spread } }
  template:
    metadata: { labels: { app: spread } }
    spec:
      terminationGracePeriodSeconds: 1
      tolerations: [${tolerations}]
      topologySpreadConstraints:
        - { maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, labelSelector: { matchLabels: { app: spread } } }
      containers:
        - { name: main, image: flotilla/busybox:1, imagePullPolicy: IfNotPresent, command: ["sleep", "3600"] }
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: store }
spec:
  serviceName: store
  replicas: 1
  selector: { matchLabels: { app: store } }
  template:
    metadata: { labels: { app: store } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: main
          image: flotilla/busybox:1
          imagePullPolicy: IfNotPresent
          command: ["sleep", "3600"]
          volumeMounts: [{ name: data, mountPath: /data }]
  volumeClaimTemplates:
    - metadata: { name: data }
      spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 64Mi } } }
`;
}

beforeAll(async () => {
  const flags = `--server-flags=--node-monitor-grace-period=${nodeMonitorGracePeriod}`;
  await testbed.up({ servers: 1, agents: 2, extraArgs: [flags] });
  await kubectlIn(manifests(), "apply", "-f", "-");
  await waitFor(async () => ((await pods("app=spread")).filter((pod) => pod.ready).length === 2 ? true : undefined), { timeoutMs: 120_000, description: "2 ready spread pods" });
  await waitFor(async () => ((await pods("app=store")).some((pod) => pod.ready) ? true : undefined), { timeoutMs: 120_000, description: "store-0 ready" });
}, 600_000);

afterAll(async () => {
  await testbed.down();
}, 200_000);

describe("agents on the testbed (1 server, 2 agents)", () => {
  it("ends `kubectl exec -i pod -- cat` when stdin ends, with the command's exit code", async () => {
    const [pod] = await pods("app=spread");
    expect(await kubectlIn("one\ntwo\n", "exec", "-i", pod?.name ?? "", "--", "cat")).toEqual({ code: 0, stdout: "one\ntwo\n" });
    expect(await kubectlIn("x", "exec", "-i", pod?.name ?? "", "--", "sh", "-c", "cat >/dev/null; exit 4")).toEqual({ code: 4, stdout: "" });
  });

  it("binds a StatefulSet's claim to a local-path volume that keeps its data across a pod deletion", async () => {
    const claim = JSON.parse(await kubectl("get", "pvc", "data-store-0", "-o", "json")) as { spec: { volumeName?: string; storageClassName?: string }; status: { phase?: string } };
    expect(claim.status.phase).toBe("Bound");
    const volume = JSON.parse(await kubectl("get", "pv", claim.spec.volumeName ?? "", "-o", "json")) as { spec: { hostPath?: { path: string }; storageClassName?: string } };
    expect(volume.spec.storageClassName).toBe("local-path");
    expect(volume.spec.hostPath?.path).toContain("data-store-0");
    expect((await kubectl("get", "storageclass", "local-path", "-o", "jsonpath={.volumeBindingMode}")).trim()).toBe("WaitForFirstConsumer");
    await kubectl("exec", "store-0", "--", "sh", "-c", "echo kept > /data/note");
    const [before] = await pods("app=store");
    const uidBefore = (await kubectl("get", "pod", "store-0", "-o", "jsonpath={.metadata.uid}")).trim();
    await kubectl("delete", "pod", "store-0", "--wait=true", "--timeout=60s");
    await waitFor(
      async () => {
        const uid = (await kubectl("get", "pod", "store-0", "-o", "jsonpath={.metadata.uid}").catch(() => "")).trim();
        return uid !== "" && uid !== uidBefore && (await pods("app=store")).some((pod) => pod.ready) ? true : undefined;
      },
      { timeoutMs: 90_000, description: "a new store-0 ready" },
    );
    expect(before?.name).toBe("store-0");
    // No nodeSelector: the scheduler follows the claim's local-path PV back to the node holding its data.
    expect((await pods("app=store")).find((pod) => !pod.terminating)?.node).toBe(before?.node);
    expect((await kubectl("exec", "store-0", "--", "cat", "/data/note")).trim()).toBe("kept");
  });

  it("gives a pod's generic ephemeral volume its own local-path claim, deleted with the pod", async () => {
    const pod = `
apiVersion: v1
kind: Pod
metadata: { name: scratch, labels: { app: scratch } }
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - { name: main, image: flotilla/busybox:1, imagePullPolicy: IfNotPresent, command: ["sleep", "3600"], volumeMounts: [{ name: cache, mountPath: /cache }] }
  volumes:
    - name: cache
      ephemeral:
        volumeClaimTemplate:
          metadata: { labels: { purpose: cache } }
          spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 32Mi } } }
`;
    await kubectlIn(pod, "apply", "-f", "-");
    await waitFor(async () => ((await pods("app=scratch")).some((view) => view.ready) ? true : undefined), { timeoutMs: 90_000, description: "pod scratch ready" });
    const podUid = (await kubectl("get", "pod", "scratch", "-o", "jsonpath={.metadata.uid}")).trim();
    const claim = JSON.parse(await kubectl("get", "pvc", "scratch-cache", "-o", "json")) as {
      metadata: { labels?: Record<string, string>; ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[] };
      spec: { volumeName?: string };
      status: { phase?: string };
    };
    expect(claim.status.phase).toBe("Bound");
    expect(claim.metadata.labels).toEqual({ purpose: "cache" });
    expect(claim.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: "Pod", name: "scratch", uid: podUid, controller: true })]);
    const volumeName = claim.spec.volumeName ?? "";
    const affinity = (await kubectl("get", "pv", volumeName, "-o", "jsonpath={.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}")).trim();
    expect(affinity).toBe((await pods("app=scratch"))[0]?.node);
    await kubectl("exec", "scratch", "--", "sh", "-c", "echo cached > /cache/entry");
    expect((await kubectl("exec", "scratch", "--", "cat", "/cache/entry")).trim()).toBe("cached");
    // The pod owns the claim: deleting the pod lets the garbage collector delete the claim, and
    // local-path's Delete policy then the volume.
    await kubectl("delete", "pod", "scratch", "--wait=true", "--timeout=60s");
    await waitFor(async () => ((await kubectl("get", "pvc", "-o", "name")).includes("scratch-cache") ? undefined : true), { timeoutMs: 60_000, description: "claim scratch-cache deleted" });
    await waitFor(async () => ((await kubectl("get", "pv", "-o", "name")).includes(volumeName) ? undefined : true), { timeoutMs: 60_000, description: `volume ${volumeName} deleted` });
  });

  it("makes a stopped agent host's node NotReady and replaces its Deployment pods on the other node", async () => {
    const spread = await pods("app=spread");
    const hostByNode = new Map(agents().map((host) => [host.namespace, host]));
    const victimNode = spread.find((pod) => pod.node !== agents()[0]?.namespace)?.node ?? spread[0]?.node ?? "";
    const victim = hostByNode.get(victimNode);
    if (victim === undefined) throw new Error(`no agent host for node ${victimNode}`);
    const survivor = agents().find((host) => host !== victim)?.namespace ?? "";
    // The host stops: its agent and its containerd die (the containers' shims go on, unmanaged).
    process.kill(Number(readFileSync(join(testbed.hostDir(victim), "flotilla-agent.pid"), "utf8")), "SIGKILL");
    process.kill(Number(readFileSync(victim.containerd?.pidFile ?? "", "utf8")), "SIGKILL");
    const stoppedAtMs = Date.now();
    await waitFor(async () => ((await kubectl("get", "node", victimNode, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}")).trim() === "Unknown" ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 1_000,
      description: `node ${victimNode} NotReady`,
    });
    const notReadyAfterMs = Date.now() - stoppedAtMs;
    const replaced = await waitFor(
      async () => {
        const live = (await pods("app=spread")).filter((pod) => !pod.terminating);
        return live.length === 2 && live.every((pod) => pod.node === survivor && pod.ready) ? live : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1_000, description: `2 ready spread pods on ${survivor}` },
    );
    expect(replaced.map((pod) => pod.node)).toEqual([survivor, survivor]);
    expect(notReadyAfterMs).toBeLessThan(60_000);
  });
});
