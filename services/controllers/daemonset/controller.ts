/**
 * The DaemonSet controller (pkg/controller/daemon): one pod per eligible node (eligibility.ts),
 * a pod on each new node, pods removed from nodes that stop qualifying, failed pods replaced.
 * Pods are bound to their node through spec.nodeName (upstream since 1.12 asks the scheduler
 * with a matchFields node affinity; binding directly keeps them off the scheduler's queue).
 * RollingUpdate replaces pods whose template hash is old, at most maxUnavailable (default 1)
 * unavailable at a time; OnDelete waits for the user. Status carries every count `kubectl
 * rollout status ds` reads.
 */
import { deepEqual, isStatusError, labelSelectorAsSelector } from "../../../libs/api/index.ts";
import type { DaemonSet, DaemonSetStatus, JsonValue, KubeObject, Node, Pod } from "../../../libs/api/index.ts";
import type { Controller, ControllerContext, Informer } from "../../../libs/client/types.ts";
import { claimObjects } from "../common/claim.ts";
import { controllerRefOf, isPodActive, isPodAvailable, isPodReady, newControllerRef, podFromTemplate } from "../common/pods.ts";
import { daemonSetsResource, nodesResource, podsResource } from "../common/resources.ts";
import { computeHash, scaledValue } from "../deployment/util.ts";
import { shouldRunOn, withDaemonTolerations } from "./eligibility.ts";

export const templateGenerationLabel = "controller-revision-hash";

function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`;
}

export class DaemonSetController implements Controller {
  readonly name = "daemonset";
  #context: ControllerContext | undefined;
  #sets: Informer<DaemonSet> | undefined;
  #nodes: Informer<Node> | undefined;
  #pods: Informer<Pod> | undefined;

  setup(context: ControllerContext): void {
    this.#context = context;
    this.#sets = context.informers.informerFor<DaemonSet>(daemonSetsResource);
    this.#nodes = context.informers.informerFor<Node>(nodesResource);
    this.#pods = context.informers.informerFor<Pod>(podsResource);
    this.#sets.addHandlers({ onAdd: (set) => context.queue.add(keyOf(set)), onUpdate: (_previous, set) => context.queue.add(keyOf(set)) });
    // Any node change may change where every DaemonSet runs.
    const allSets = (): void => {
      for (const set of this.#sets?.list() ?? []) context.queue.add(keyOf(set));
    };
    this.#nodes.addHandlers({ onAdd: allSets, onUpdate: allSets, onDelete: allSets });
    const podChanged = (pod: Pod): void => {
      const reference = controllerRefOf(pod);
      if (reference?.kind === "DaemonSet") context.queue.add(`${pod.metadata.namespace ?? ""}/${reference.name}`);
    };
    this.#pods.addHandlers({ onAdd: podChanged, onUpdate: (_previous, pod) => podChanged(pod), onDelete: podChanged });
  }

  #state(): { context: ControllerContext; sets: Informer<DaemonSet>; nodes: Informer<Node>; pods: Informer<Pod> } {
    if (this.#context === undefined || this.#sets === undefined || this.#nodes === undefined || this.#pods === undefined) throw new Error("daemonset controller used before setup()");
    return { context: this.#context, sets: this.#sets, nodes: this.#nodes, pods: this.#pods };
  }

  async reconcile(key: string): Promise<void> {
    const { context, sets, nodes, pods } = this.#state();
    const cached = sets.get(key);
    if (cached === undefined || (cached.metadata.deletionTimestamp ?? null) !== null) return;
    const set = structuredClone(cached);
    let selector;
    try {
      selector = labelSelectorAsSelector(set.spec?.selector);
    } catch {
      return;
    }
    const owned = await claimObjects<Pod>({
      client: context.client,
      resource: podsResource,
      owner: set,
      ownerRef: newControllerRef(set, "apps/v1", "DaemonSet"),
      selector,
      candidates: pods.listMatching(set.metadata.namespace, "").filter(isPodActive),
      ownerStillLive: async () => true,
    });
    const hash = computeHash(set.spec?.template, set.status?.collisionCount === 0 ? undefined : set.status?.collisionCount);
    const byNode = new Map<string, Pod[]>();
    for (const pod of owned) byNode.set(pod.spec?.nodeName ?? "", [...(byNode.get(pod.spec?.nodeName ?? "") ?? []), pod]);
    const eligible = nodes.list().filter((node) => shouldRunOn(set.spec?.template, node));
    const eligibleNames = new Set(eligible.map((node) => node.metadata.name ?? ""));
    for (const node of eligible) {
      const name = node.metadata.name ?? "";
      const onNode = byNode.get(name) ?? [];
      if (onNode.length === 0) await this.#createPod(set, name, hash);
      // More than one daemon pod on a node: keep the oldest.
      for (const extra of onNode.slice(1)) await this.#deletePod(set, extra);
    }
    for (const [nodeName, onNode] of byNode) if (!eligibleNames.has(nodeName)) for (const pod of onNode) await this.#deletePod(set, pod);
    await this.#rollingUpdate(set, eligible.map((node) => byNode.get(node.metadata.name ?? "")?.[0]).filter((pod): pod is Pod => pod !== undefined), eligible.length, hash);
    await this.#writeStatus(set, owned, eligibleNames, hash);
  }

  async #rollingUpdate(set: DaemonSet, current: Pod[], desired: number, hash: string): Promise<void> {
    if ((set.spec?.updateStrategy?.type ?? "RollingUpdate") !== "RollingUpdate") return;
    const minReadySeconds = set.spec?.minReadySeconds ?? 0;
    const nowMs = this.#state().context.nowMs();
    const maxUnavailable = Math.max(1, scaledValue(set.spec?.updateStrategy?.rollingUpdate?.maxUnavailable, desired, true, 1));
    let unavailable = desired - current.filter((pod) => isPodAvailable(pod, minReadySeconds, nowMs)).length;
    // Old pods that are not available go first: replacing them costs no availability.
    const old = current.filter((pod) => pod.metadata.labels?.[templateGenerationLabel] !== hash);
    old.sort((left, right) => Number(isPodAvailable(left, minReadySeconds, nowMs)) - Number(isPodAvailable(right, minReadySeconds, nowMs)));
    for (const pod of old) {
      const available = isPodAvailable(pod, minReadySeconds, nowMs);
      if (available && unavailable >= maxUnavailable) return;
      await this.#deletePod(set, pod);
      if (available) unavailable++;
    }
  }

  async #createPod(set: DaemonSet, nodeName: string, hash: string): Promise<void> {
    const { context } = this.#state();
    const pod = podFromTemplate(set.spec?.template, set, newControllerRef(set, "apps/v1", "DaemonSet"));
    pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [templateGenerationLabel]: hash };
    pod.spec = { ...(pod.spec ?? { containers: [] }), nodeName, tolerations: withDaemonTolerations(pod.spec?.tolerations) };
    try {
      const created = await context.client.create<Pod>(podsResource, pod);
      context.events.record(set, "Normal", "SuccessfulCreate", `Created pod: ${created.metadata.name ?? ""}`);
    } catch (error) {
      context.events.record(set, "Warning", "FailedCreate", `Error creating: ${(error as Error).message}`);
      throw error;
    }
  }

  async #deletePod(set: DaemonSet, pod: Pod): Promise<void> {
    const { context } = this.#state();
    try {
      await context.client.delete(podsResource, pod.metadata.namespace, pod.metadata.name ?? "", { preconditions: { uid: pod.metadata.uid ?? "" } });
      context.events.record(set, "Normal", "SuccessfulDelete", `Deleted pod: ${pod.metadata.name ?? ""}`);
    } catch (error) {
      if (!isStatusError(error, "NotFound") && !isStatusError(error, "Conflict")) throw error;
    }
  }

  async #writeStatus(set: DaemonSet, owned: Pod[], eligible: Set<string>, hash: string): Promise<void> {
    const { context, pods } = this.#state();
    const minReadySeconds = set.spec?.minReadySeconds ?? 0;
    const nowMs = context.nowMs();
    // Counts from the cache after this reconcile's writes: one pod per node at most.
    const live = pods.listMatching(set.metadata.namespace, "").filter((pod) => controllerRefOf(pod)?.uid === set.metadata.uid && isPodActive(pod));
    const perNode = new Map<string, Pod>();
    for (const pod of live.length > 0 || owned.length === 0 ? live : owned) if (!perNode.has(pod.spec?.nodeName ?? "")) perNode.set(pod.spec?.nodeName ?? "", pod);
    const scheduled = [...perNode.entries()].filter(([node]) => eligible.has(node)).map(([, pod]) => pod);
    const available = scheduled.filter((pod) => isPodAvailable(pod, minReadySeconds, nowMs)).length;
    const status: DaemonSetStatus = {
      currentNumberScheduled: scheduled.length,
      numberMisscheduled: [...perNode.keys()].filter((node) => !eligible.has(node)).length,
      desiredNumberScheduled: eligible.size,
      numberReady: scheduled.filter(isPodReady).length,
      observedGeneration: set.metadata.generation ?? 0,
      updatedNumberScheduled: scheduled.filter((pod) => pod.metadata.labels?.[templateGenerationLabel] === hash).length,
      numberAvailable: available,
      numberUnavailable: eligible.size - available,
    };
    if (status.numberAvailable === 0) delete status.numberAvailable;
    if (status.numberUnavailable === 0) delete status.numberUnavailable;
    if (deepEqual((set.status ?? {}) as JsonValue, status as unknown as JsonValue)) return;
    await context.client.update<DaemonSet>(daemonSetsResource, { ...set, status }, { subresource: "status" });
  }
}
