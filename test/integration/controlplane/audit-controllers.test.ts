/**
 * Issue 5's bullets that no other file shows, against a real `flotilla server` (fake kubelet
 * nodes). ReplicationController: `kubectl apply` under kubectl's default validation, its pods
 * Running and Ready, `kubectl get rc` with upstream's columns, `kubectl scale rc` up and down, a
 * relabelled pod released and replaced, `kubectl delete rc --cascade=orphan` leaving the pods.
 * Events: a repeated FailedScheduling is one Event whose count grows, as `kubectl describe` shows.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findResource } from "../../../libs/api/index.ts";
import type { Event, Pod, ReplicationController } from "../../../libs/api/index.ts";
import { ControlPlaneServer, isRunningAndReady } from "../../harness/controlplane-server.ts";
import { run } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";

const convergeTimeoutMs = 30_000;
const kubectlTimeoutMs = 30_000;
const pods = findResource("", "v1", "pods")!;
const replicationControllers = findResource("", "v1", "replicationcontrollers")!;
const events = findResource("", "v1", "events")!;

const manifest = `apiVersion: v1
kind: ReplicationController
metadata:
  name: legacy
spec:
  replicas: 2
  template:
    metadata:
      labels:
        app: legacy
    spec:
      containers:
      - name: web
        image: nginx:1
        ports:
        - containerPort: 80
`;

describe("issue 5 audit in flotilla server: ReplicationController and events", () => {
  let server: ControlPlaneServer;

  beforeAll(async () => {
    server = await ControlPlaneServer.start("audit-controllers");
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("kubectl apply creates an rc whose selector defaults to the template's labels, and its pods come up", async () => {
    const applied = await run("kubectl", [`--kubeconfig=${server.kubeconfig}`, "apply", "-f", "-"], { timeoutMs: kubectlTimeoutMs, input: manifest });
    expect(applied.stderr).toBe("");
    expect(applied.stdout.trim()).toBe("replicationcontroller/legacy created");
    const ready = await server.waitReady("app=legacy", 2, "2 ready pods of rc/legacy", convergeTimeoutMs);
    for (const pod of ready) expect(pod.metadata.ownerReferences?.[0]).toMatchObject({ apiVersion: "v1", kind: "ReplicationController", name: "legacy", controller: true });
    const rc = await server.client.get<ReplicationController>(replicationControllers, "default", "legacy");
    expect(rc.spec?.selector).toEqual({ app: "legacy" });
    expect(rc.metadata.labels).toEqual({ app: "legacy" });
  });

  it("kubectl get rc prints NAME DESIRED CURRENT READY AGE, and -o wide adds CONTAINERS IMAGES SELECTOR", async () => {
    await waitFor(
      async () => {
        const rc = await server.client.get<ReplicationController>(replicationControllers, "default", "legacy");
        return rc.status?.readyReplicas === 2 ? rc : undefined;
      },
      { timeoutMs: convergeTimeoutMs, description: "rc/legacy status to count 2 ready" },
    );
    const lines = (await server.kubectl("get", "rc")).trim().split("\n");
    expect(lines[0]?.split(/\s+/)).toEqual(["NAME", "DESIRED", "CURRENT", "READY", "AGE"]);
    expect(lines[1]?.split(/\s+/).slice(0, 4)).toEqual(["legacy", "2", "2", "2"]);
    const wide = (await server.kubectl("get", "replicationcontroller", "legacy", "-o", "wide")).trim().split("\n");
    expect(wide[0]?.split(/\s+/)).toEqual(["NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]);
    expect(wide[1]?.split(/\s+/).slice(5)).toEqual(["web", "nginx:1", "app=legacy"]);
  });

  it("kubectl scale rc goes up to 4 and down to 1 through the scale subresource", async () => {
    expect((await server.kubectl("scale", "rc", "legacy", "--replicas=4")).trim()).toBe("replicationcontroller/legacy scaled");
    await server.waitReady("app=legacy", 4, "4 ready pods after kubectl scale rc --replicas=4", convergeTimeoutMs);
    const scale = JSON.parse(await server.kubectl("get", "--raw", "/api/v1/namespaces/default/replicationcontrollers/legacy/scale")) as { spec: { replicas: number }; status: { selector: string } };
    expect(scale.spec.replicas).toBe(4);
    expect(scale.status.selector).toBe("app=legacy");
    await server.kubectl("scale", "rc/legacy", "--replicas=1");
    await server.waitReady("app=legacy", 1, "1 ready pod after kubectl scale rc --replicas=1", convergeTimeoutMs);
  });

  it("a pod relabelled out of the rc keeps running and is replaced", async () => {
    const [sick] = await server.podsWith("app=legacy");
    await server.kubectl("label", "pod", sick!.metadata.name!, "app=quarantine", "--overwrite");
    await server.waitReady("app=legacy", 1, "a replacement for the relabelled pod", convergeTimeoutMs);
    const released = await server.client.get<Pod>(pods, "default", sick!.metadata.name!);
    expect(released.metadata.ownerReferences ?? []).toEqual([]);
    expect(isRunningAndReady(released)).toBe(true);
  });

  it("kubectl delete rc --cascade=orphan removes the rc and leaves its pods, without owner", async () => {
    const [kept] = await server.podsWith("app=legacy");
    await server.kubectl("delete", "rc", "legacy", "--cascade=orphan");
    await waitFor(
      async () => {
        const pod = await server.client.get<Pod>(pods, "default", kept!.metadata.name!);
        const list = await server.client.list<ReplicationController>(replicationControllers, "default");
        return list.items.length === 0 && (pod.metadata.ownerReferences ?? []).length === 0 ? pod : undefined;
      },
      { timeoutMs: convergeTimeoutMs, description: "rc gone and its pod orphaned" },
    );
    expect((await server.podsWith("app=legacy")).map((pod) => pod.metadata.name)).toEqual([kept!.metadata.name]);
  });

  it("kubectl delete rc (background) lets the garbage collector delete its pods", async () => {
    await run("kubectl", [`--kubeconfig=${server.kubeconfig}`, "apply", "-f", "-"], { timeoutMs: kubectlTimeoutMs, input: manifest.replaceAll("legacy", "collected") });
    await server.waitReady("app=collected", 2, "2 ready pods of rc/collected", convergeTimeoutMs);
    await server.kubectl("delete", "rc", "collected", "--wait=false");
    await waitFor(async () => ((await server.podsWith("app=collected")).length === 0 ? true : undefined), { timeoutMs: convergeTimeoutMs, description: "rc/collected's pods deleted by the garbage collector" });
  });

  it("a FailedScheduling repeated after each node change is one Event with a growing count, and kubectl describe shows (x2 over ...)", async () => {
    const schedulingEvents = async (): Promise<Event[]> =>
      (await server.client.list<Event>(events, "default")).items.filter((event) => event.involvedObject.name === "picky" && event.reason === "FailedScheduling");
    await server.client.create<Pod>(pods, { apiVersion: "v1", kind: "Pod", metadata: { name: "picky", namespace: "default" }, spec: { nodeSelector: { disk: "nvme" }, containers: [{ name: "c", image: "nginx:1" }] } });
    await waitFor(async () => ((await schedulingEvents()).length === 1 ? true : undefined), { timeoutMs: convergeTimeoutMs, description: "a first FailedScheduling event for picky" });
    // A node label change may help the pod, so the scheduler tries again and fails the same way.
    await server.kubectl("label", "node", "node-a", "disk=hdd");
    const counted = await waitFor(
      async () => {
        const found = await schedulingEvents();
        return found.length === 1 && (found[0]?.count ?? 0) >= 2 ? found : undefined;
      },
      { timeoutMs: convergeTimeoutMs, description: "the FailedScheduling event counted twice" },
    );
    expect(counted[0]?.message).toContain("0/2 nodes are available");
    const described = await server.kubectl("describe", "pod", "picky");
    expect(described).toMatch(/Warning\s+FailedScheduling\s+\S+ \(x\d+ over \S+\)\s+default-scheduler\s+0\/2 nodes are available/);
    await server.kubectl("label", "node", "node-a", "disk-");
    await server.kubectl("delete", "pod", "picky", "--wait=false");
  });
});
