/**
 * The node lifecycle controller (pkg/controller/nodelifecycle with its NoExecute taint manager):
 * watches node Leases (kube-node-lease) and Ready heartbeats; a node that has shown neither for
 * `nodeMonitorGracePeriodMs` (40 s) gets Unknown conditions and the unreachable taints (a node
 * reporting Ready=False gets the not-ready ones), its pods are marked not ready, and after their
 * tolerationSeconds (300 s unless the pod says otherwise) they are deleted so that their
 * controllers replace them elsewhere. A node that reports again loses the taints. Staleness is
 * measured on this controller's clock from when it saw a renewal change, as upstream, so clock
 * skew between machines does not matter.
 */
import { deepEqual, formatTime, isStatusError } from "../../../libs/api/index.ts";
import type { JsonValue, Lease, Node, Pod } from "../../../libs/api/index.ts";
import type { Controller, ControllerContext, Informer } from "../../../libs/client/types.ts";
import { isPodActive, isPodReady } from "../common/pods.ts";
import { leasesResource, nodesResource, podsResource } from "../common/resources.ts";
import { desiredTaints, evictionAtMs, readyStatus, unknownConditions } from "./health.ts";

export const nodeLeaseNamespace = "kube-node-lease";
export const nodeMonitorGracePeriodMsDefault = 40_000;
export const nodeMonitorPeriodMsDefault = 5_000;
export const defaultTolerationSecondsDefault = 300;
const podsByNodeIndex = "nodelifecycle/spec.nodeName";

export interface NodeLifecycleOptions {
  nodeMonitorGracePeriodMs?: number;
  nodeMonitorPeriodMs?: number;
  /** Toleration of not-ready/unreachable for pods that declare none (DefaultTolerationSeconds). */
  defaultTolerationSeconds?: number;
}

interface Probe {
  heartbeat: string;
  renewTime: string;
  probeMs: number;
}

export class NodeLifecycleController implements Controller {
  readonly name = "nodelifecycle";
  readonly #gracePeriodMs: number;
  readonly #monitorPeriodMs: number;
  readonly #defaultTolerationSeconds: number;
  readonly #probes = new Map<string, Probe>();
  #context: ControllerContext | undefined;
  #nodes: Informer<Node> | undefined;
  #leases: Informer<Lease> | undefined;
  #pods: Informer<Pod> | undefined;

  constructor(options: NodeLifecycleOptions = {}) {
    this.#gracePeriodMs = options.nodeMonitorGracePeriodMs ?? nodeMonitorGracePeriodMsDefault;
    this.#monitorPeriodMs = options.nodeMonitorPeriodMs ?? nodeMonitorPeriodMsDefault;
    this.#defaultTolerationSeconds = options.defaultTolerationSeconds ?? defaultTolerationSecondsDefault;
  }

  setup(context: ControllerContext): void {
    this.#context = context;
    this.#nodes = context.informers.informerFor<Node>(nodesResource);
    this.#leases = context.informers.informerFor<Lease>(leasesResource, { namespace: nodeLeaseNamespace });
    this.#pods = context.informers.informerFor<Pod>(podsResource);
    this.#pods.addIndex(podsByNodeIndex, (pod) => (pod.spec?.nodeName === undefined || pod.spec.nodeName === "" ? [] : [pod.spec.nodeName]));
    const enqueue = (name: string | undefined): void => {
      if (name !== undefined) context.queue.add(name);
    };
    this.#nodes.addHandlers({
      onAdd: (node) => enqueue(node.metadata.name),
      onUpdate: (_previous, node) => enqueue(node.metadata.name),
      onDelete: (node) => this.#probes.delete(node.metadata.name ?? ""),
    });
    this.#leases.addHandlers({ onAdd: (lease) => enqueue(lease.metadata.name), onUpdate: (_previous, lease) => enqueue(lease.metadata.name) });
  }

  #state(): { context: ControllerContext; nodes: Informer<Node>; leases: Informer<Lease>; pods: Informer<Pod> } {
    if (this.#context === undefined || this.#nodes === undefined || this.#leases === undefined || this.#pods === undefined) {
      throw new Error("node lifecycle controller used before setup()");
    }
    return { context: this.#context, nodes: this.#nodes, leases: this.#leases, pods: this.#pods };
  }

  async reconcile(name: string): Promise<void> {
    const { context, nodes } = this.#state();
    const cached = nodes.get(name);
    if (cached === undefined) {
      this.#probes.delete(name);
      return;
    }
    const nowMs = context.nowMs();
    let node = cached;
    if (this.#isStale(node, nowMs) && readyStatus(node) !== "Unknown") {
      node = await context.client.update<Node>(nodesResource, { ...node, status: { ...(node.status ?? {}), conditions: unknownConditions(node, nowMs) } }, { subresource: "status" });
      context.events.record(node, "Normal", "NodeNotReady", `Node ${name} status is now: NodeNotReady`);
    }
    const taints = desiredTaints(node, nowMs);
    if (!deepEqual((node.spec?.taints ?? []) as unknown as JsonValue, taints as unknown as JsonValue)) {
      const spec = { ...(node.spec ?? {}) };
      if (taints.length === 0) delete spec.taints;
      else spec.taints = taints;
      node = await context.client.update<Node>(nodesResource, { ...node, spec });
    }
    if (readyStatus(node) !== "True") await this.#markPodsNotReady(name, nowMs);
    const nextEvictionMs = await this.#evict(node, nowMs);
    // A silent node sends no events: look again every monitor period, or at the next eviction.
    const delayMs = nextEvictionMs === undefined ? this.#monitorPeriodMs : Math.min(this.#monitorPeriodMs, Math.max(0, nextEvictionMs - nowMs));
    context.queue.addAfter(name, delayMs);
  }

  // A renewal (Lease renewTime or Ready heartbeat) seen changing resets the node's probe time.
  #isStale(node: Node, nowMs: number): boolean {
    const name = node.metadata.name ?? "";
    const heartbeat = (node.status?.conditions ?? []).find((condition) => condition.type === "Ready")?.lastHeartbeatTime ?? "";
    const renewTime = this.#state().leases.get(`${nodeLeaseNamespace}/${name}`)?.spec?.renewTime ?? "";
    const probe = this.#probes.get(name);
    if (probe === undefined || probe.heartbeat !== heartbeat || probe.renewTime !== renewTime) {
      this.#probes.set(name, { heartbeat, renewTime, probeMs: nowMs });
      return false;
    }
    return nowMs - probe.probeMs > this.#gracePeriodMs;
  }

  // MarkPodsNotReady: endpoints stop sending traffic to pods on a node that may be gone.
  async #markPodsNotReady(nodeName: string, nowMs: number): Promise<void> {
    const { context, pods } = this.#state();
    for (const pod of pods.byIndex(podsByNodeIndex, nodeName)) {
      if (!isPodActive(pod) || !isPodReady(pod)) continue;
      const conditions = (pod.status?.conditions ?? []).map((condition) =>
        condition.type === "Ready" ? { ...condition, status: "False" as const, lastTransitionTime: formatTime(nowMs) } : condition,
      );
      try {
        await context.client.update<Pod>(podsResource, { ...pod, status: { ...(pod.status ?? {}), conditions } }, { subresource: "status" });
      } catch (error) {
        if (!isStatusError(error, "NotFound") && !isStatusError(error, "Conflict")) throw error;
      }
    }
  }

  /** Deletes the pods whose toleration ran out; returns when the next one will. */
  async #evict(node: Node, nowMs: number): Promise<number | undefined> {
    const { context, pods } = this.#state();
    const taints = node.spec?.taints ?? [];
    let next: number | undefined;
    for (const pod of pods.byIndex(podsByNodeIndex, node.metadata.name ?? "")) {
      if ((pod.metadata.deletionTimestamp ?? null) !== null) continue;
      const atMs = evictionAtMs(pod, taints, this.#defaultTolerationSeconds);
      if (atMs === undefined) continue;
      if (atMs > nowMs) {
        next = next === undefined ? atMs : Math.min(next, atMs);
        continue;
      }
      try {
        await context.client.delete(podsResource, pod.metadata.namespace, pod.metadata.name ?? "", { preconditions: { uid: pod.metadata.uid ?? "" } });
        context.events.record(pod, "Normal", "TaintManagerEviction", `Marking for deletion Pod ${pod.metadata.namespace ?? ""}/${pod.metadata.name ?? ""}`);
      } catch (error) {
        if (!isStatusError(error, "NotFound") && !isStatusError(error, "Conflict")) throw error;
      }
    }
    return next;
  }
}
