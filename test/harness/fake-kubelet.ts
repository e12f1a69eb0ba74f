/**
 * A stand-in for node agents in control-plane tests (kubemark's hollow nodes, reduced): registers
 * Node objects that report Ready, renews each node's Lease in kube-node-lease, and moves the pods
 * bound to its nodes the way an agent reports them: Running and Ready (with a pod IP) on the next
 * tick, and pods that do not restart (restartPolicy Never or OnFailure) Succeeded one tick later.
 * `stopNode(name)` makes a node go silent (no Lease renewals, no pod updates) as a dead machine.
 */
import { findResource, isStatusError } from "../../libs/api/index.ts";
import type { Lease, Node, Pod } from "../../libs/api/index.ts";
import type { ApiClient } from "../../libs/client/index.ts";

const nodes = findResource("", "v1", "nodes")!;
const pods = findResource("", "v1", "pods")!;
const namespaces = findResource("", "v1", "namespaces")!;
const leases = findResource("coordination.k8s.io", "v1", "leases")!;
export const nodeLeaseNamespace = "kube-node-lease";

export interface FakeKubeletOptions {
  /** How often pods are looked at. */
  readonly tickMs?: number;
  /** How often each live node renews its Lease (upstream: 10 s). */
  readonly leaseRenewMs?: number;
  readonly leaseDurationSeconds?: number;
}

export interface FakeNode {
  readonly name: string;
  readonly labels?: Record<string, string>;
}

function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function time(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

export class FakeKubelet {
  readonly #client: ApiClient;
  readonly #tickMs: number;
  readonly #leaseRenewMs: number;
  readonly #leaseDurationSeconds: number;
  readonly #live = new Set<string>();
  readonly #lastRenewMs = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;
  #podIpCounter = 2;
  /** The last error a tick met, for a test's failure message. */
  lastError: unknown;

  constructor(client: ApiClient, options: FakeKubeletOptions = {}) {
    this.#client = client;
    this.#tickMs = options.tickMs ?? 200;
    this.#leaseRenewMs = options.leaseRenewMs ?? 1_000;
    this.#leaseDurationSeconds = options.leaseDurationSeconds ?? 40;
  }

  /** Creates (or refreshes) Ready Node objects and their Leases, and starts acting for them. */
  async addNodes(fakeNodes: readonly FakeNode[]): Promise<void> {
    await this.#client.create(namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: nodeLeaseNamespace } }).catch(ignore("AlreadyExists"));
    for (const fakeNode of fakeNodes) {
      const node: Node = { apiVersion: "v1", kind: "Node", metadata: { name: fakeNode.name, labels: { "kubernetes.io/hostname": fakeNode.name, ...(fakeNode.labels ?? {}) } } };
      const created = await this.#client.create<Node>(nodes, node).catch(async (error: unknown) => {
        if (!isStatusError(error, "AlreadyExists")) throw error;
        return await this.#client.get<Node>(nodes, undefined, fakeNode.name);
      });
      // A merge patch, as the kubelet's status patch: the node IPAM controller may have written
      // spec.podCIDR since the create, which would make an update from `created` a 409 Conflict.
      await this.#client.patch<Node>(nodes, undefined, created.metadata.name ?? fakeNode.name, "merge", { status: this.#nodeStatus(Date.now()) }, { subresource: "status" });
      this.#live.add(fakeNode.name);
      await this.#renew(fakeNode.name, Date.now());
    }
  }

  #nodeStatus(nowMs: number): NonNullable<Node["status"]> {
    const capacity = { cpu: "4", memory: "8Gi", pods: "110" };
    return {
      capacity,
      allocatable: capacity,
      conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status", lastHeartbeatTime: time(nowMs), lastTransitionTime: time(nowMs) }],
      addresses: [{ type: "InternalIP", address: "10.0.0.1" }],
    };
  }

  start(): void {
    this.#timer = setInterval(() => void this.#tick(), this.#tickMs);
  }

  /** The node stops renewing its Lease and updating its pods, as a machine that died. */
  stopNode(name: string): void {
    this.#live.delete(name);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      const nowMs = Date.now();
      for (const name of this.#live) if (nowMs - (this.#lastRenewMs.get(name) ?? 0) >= this.#leaseRenewMs) await this.#renew(name, nowMs);
      const listed = await this.#client.list<Pod>(pods, undefined);
      for (const pod of listed.items) await this.#advance(pod, nowMs);
    } catch (error) {
      this.lastError = error;
    } finally {
      this.#ticking = false;
    }
  }

  async #renew(name: string, nowMs: number): Promise<void> {
    this.#lastRenewMs.set(name, nowMs);
    const spec = { holderIdentity: name, leaseDurationSeconds: this.#leaseDurationSeconds, renewTime: microTime(nowMs) };
    try {
      const current = await this.#client.get<Lease>(leases, nodeLeaseNamespace, name);
      await this.#client.update<Lease>(leases, { ...current, spec: { ...(current.spec ?? {}), ...spec } });
    } catch (error) {
      if (!isStatusError(error, "NotFound")) throw error;
      await this.#client.create<Lease>(leases, { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name, namespace: nodeLeaseNamespace }, spec });
    }
  }

  async #advance(pod: Pod, nowMs: number): Promise<void> {
    const nodeName = pod.spec?.nodeName ?? "";
    if (!this.#live.has(nodeName) || (pod.metadata.deletionTimestamp ?? null) !== null) return;
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") return;
    let status: NonNullable<Pod["status"]>;
    if (phase !== "Running") status = this.#running(pod, nowMs);
    else if ((pod.spec?.restartPolicy ?? "Always") !== "Always") status = this.#succeeded(pod, nowMs);
    else return;
    await this.#client.update<Pod>(pods, { ...pod, status }, { subresource: "status" }).catch(ignore("Conflict", "NotFound"));
  }

  #running(pod: Pod, nowMs: number): NonNullable<Pod["status"]> {
    const now = time(nowMs);
    const ip = `10.244.0.${this.#podIpCounter++ % 250}`;
    return {
      phase: "Running",
      conditions: ["Initialized", "Ready", "ContainersReady", "PodScheduled"].map((type) => ({ type, status: "True" as const, lastTransitionTime: now })),
      hostIP: "10.0.0.1",
      podIP: ip,
      podIPs: [{ ip }],
      startTime: now,
      containerStatuses: (pod.spec?.containers ?? []).map((container) => ({
        name: container.name,
        image: container.image ?? "",
        imageID: "",
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
      })),
    };
  }

  #succeeded(pod: Pod, nowMs: number): NonNullable<Pod["status"]> {
    const now = time(nowMs);
    return {
      ...(pod.status ?? {}),
      phase: "Succeeded",
      conditions: [
        ...["Initialized", "PodScheduled"].map((type) => ({ type, status: "True" as const, lastTransitionTime: now })),
        ...["Ready", "ContainersReady"].map((type) => ({ type, status: "False" as const, lastTransitionTime: now })),
      ],
      containerStatuses: (pod.spec?.containers ?? []).map((container) => ({
        name: container.name,
        image: container.image ?? "",
        imageID: "",
        ready: false,
        started: false,
        restartCount: 0,
        state: { terminated: { exitCode: 0, reason: "Completed", finishedAt: now } },
      })),
    };
  }
}

function ignore(...reasons: ("AlreadyExists" | "Conflict" | "NotFound")[]): (error: unknown) => undefined {
  return (error) => {
    if (reasons.some((reason) => isStatusError(error, reason))) return undefined;
    throw error;
  };
}
