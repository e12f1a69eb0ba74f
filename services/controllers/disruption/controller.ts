/**
 * The disruption controller (pkg/controller/disruption): keeps every PodDisruptionBudget's status
 * (expectedPods, desiredHealthy, currentHealthy, disruptionsAllowed, disruptedPods,
 * observedGeneration and the DisruptionAllowed condition) true to the pods its selector picks, so
 * that pods/eviction can let a drain through exactly as far as the budget allows. Keys are
 * `namespace/name` of budgets; pod and workload changes enqueue the budgets they touch.
 */
import { deepEqual, findResource, labelSelectorAsSelector } from "../../../libs/api/index.ts";
import type { Deployment, JsonValue, KubeObject, OwnerReference, Pod, PodDisruptionBudget, ReplicaSet, ReplicationController, StatefulSet } from "../../../libs/api/index.ts";
import { defined } from "../../../libs/assert/index.ts";
import type { Controller, ControllerContext, Informer } from "../../../libs/client/types.ts";
import { controllerRefOf } from "../common/pods.ts";
import { deploymentsResource, podsResource, replicaSetsResource, statefulSetsResource } from "../common/resources.ts";
import { currentHealthy, disruptedPods, expectation, failSafeStatus, nextStatus } from "./budget.ts";
import type { BudgetStatus, ExpectedScale } from "./budget.ts";

export const podDisruptionBudgetsResource = defined(findResource("policy", "v1", "poddisruptionbudgets"), "registry serves poddisruptionbudgets");
export const replicationControllersResource = defined(findResource("", "v1", "replicationcontrollers"), "registry serves replicationcontrollers");

interface Scaled extends KubeObject {
  spec?: { replicas?: number };
}

interface Informers {
  budgets: Informer<PodDisruptionBudget>;
  pods: Informer<Pod>;
  replicaSets: Informer<ReplicaSet>;
  deployments: Informer<Deployment>;
  statefulSets: Informer<StatefulSet>;
  replicationControllers: Informer<ReplicationController>;
}

function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`;
}

function selects(budget: PodDisruptionBudget, pod: Pod): boolean {
  try {
    // policy/v1: no selector selects nothing, an empty one every pod of the namespace.
    return labelSelectorAsSelector(budget.spec?.selector).matches(pod.metadata.labels);
  } catch {
    return false;
  }
}

/** The owner named by `reference` in `namespace`, if the cache has it with that uid. */
function owned<T extends KubeObject>(informer: Informer<T>, namespace: string, reference: OwnerReference | undefined, kind: string): T | undefined {
  if (reference === undefined || reference.kind !== kind) return undefined;
  const owner = informer.get(`${namespace}/${reference.name}`);
  return owner?.metadata.uid === reference.uid ? owner : undefined;
}

export class DisruptionController implements Controller {
  readonly name = "disruption";
  #context: ControllerContext | undefined;
  #informers: Informers | undefined;

  setup(context: ControllerContext): void {
    this.#context = context;
    const informers: Informers = {
      budgets: context.informers.informerFor<PodDisruptionBudget>(podDisruptionBudgetsResource),
      pods: context.informers.informerFor<Pod>(podsResource),
      replicaSets: context.informers.informerFor<ReplicaSet>(replicaSetsResource),
      deployments: context.informers.informerFor<Deployment>(deploymentsResource),
      statefulSets: context.informers.informerFor<StatefulSet>(statefulSetsResource),
      replicationControllers: context.informers.informerFor<ReplicationController>(replicationControllersResource),
    };
    this.#informers = informers;
    const enqueue = (budget: PodDisruptionBudget) => context.queue.add(keyOf(budget));
    informers.budgets.addHandlers({ onAdd: enqueue, onUpdate: (_previous, budget) => enqueue(budget), onDelete: enqueue });
    const forPod = (pod: Pod) => {
      for (const budget of informers.budgets.listMatching(pod.metadata.namespace, "")) if (selects(budget, pod)) enqueue(budget);
    };
    informers.pods.addHandlers({
      onAdd: forPod,
      onUpdate: (previous, pod) => {
        forPod(pod);
        if (!deepEqual((previous.metadata.labels ?? {}) as JsonValue, (pod.metadata.labels ?? {}) as JsonValue)) forPod(previous);
      },
      onDelete: forPod,
    });
    // A scale change alters what maxUnavailable and percentages resolve to before any pod moves.
    const onScale = (previous: Scaled, current: Scaled) => {
      if (previous.spec?.replicas === current.spec?.replicas) return;
      for (const budget of informers.budgets.listMatching(current.metadata.namespace, "")) enqueue(budget);
    };
    informers.replicaSets.addHandlers({ onUpdate: onScale });
    informers.deployments.addHandlers({ onUpdate: onScale });
    informers.statefulSets.addHandlers({ onUpdate: onScale });
    informers.replicationControllers.addHandlers({ onUpdate: onScale });
  }

  #state(): { context: ControllerContext; informers: Informers } {
    if (this.#context === undefined || this.#informers === undefined) throw new Error("disruption controller used before setup()");
    return { context: this.#context, informers: this.#informers };
  }

  async reconcile(key: string): Promise<void> {
    const { context, informers } = this.#state();
    const budget = informers.budgets.get(key);
    if (budget === undefined || (budget.metadata.deletionTimestamp ?? null) !== null) return;
    const namespace = budget.metadata.namespace ?? "";
    const pods = informers.pods.listMatching(namespace, "").filter((pod) => selects(budget, pod));
    if (pods.length === 0) context.events.record(budget, "Normal", "NoPods", "No matching pods found");
    let status: BudgetStatus | undefined;
    try {
      status = this.#computeStatus(budget, pods);
    } catch (error) {
      const message = (error as Error).message;
      context.events.record(budget, "Warning", "CalculateExpectedPodCountFailed", `Failed to calculate the number of expected pods: ${message}`);
      await this.#write(budget, failSafeStatus(budget, message, context.nowMs()));
      throw error;
    }
    if (status !== undefined) await this.#write(budget, status);
  }

  /** The status to write, or undefined when the stored one is current; throws when a controller is missing. */
  #computeStatus(budget: PodDisruptionBudget, pods: readonly Pod[]): BudgetStatus | undefined {
    const { context } = this.#state();
    const nowMs = context.nowMs();
    const expected = expectation(budget, pods.length, () => this.#expectedScale(pods));
    if (expected.unmanagedPods.length > 0) {
      context.events.record(
        budget,
        "Warning",
        "UnmanagedPods",
        `Pods selected by this PodDisruptionBudget (selector: ${JSON.stringify(budget.spec?.selector ?? null)}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`,
      );
    }
    const disrupted = disruptedPods(budget, pods, nowMs);
    for (const name of disrupted.expired) {
      context.events.record(budget, "Warning", "NotDeleted", `Pod ${name} was expected by PDB ${budget.metadata.name ?? ""} to be deleted but it wasn't`);
    }
    if (disrupted.recheckAtMs !== undefined) context.queue.addAfter(keyOf(budget), Math.max(0, disrupted.recheckAtMs - nowMs));
    const healthy = currentHealthy(pods, disrupted.pods);
    return nextStatus(budget, { currentHealthy: healthy, desiredHealthy: expected.desiredHealthy, expectedCount: expected.expectedCount, disruptedPods: disrupted.pods }, nowMs);
  }

  /** getExpectedScale: the replicas of each distinct controller of the pods, summed. */
  #expectedScale(pods: readonly Pod[]): ExpectedScale {
    const replicasByUid = new Map<string, number>();
    const unmanagedPods: string[] = [];
    for (const pod of pods) {
      const reference = controllerRefOf(pod);
      if (reference === undefined) {
        unmanagedPods.push(pod.metadata.name ?? "");
        continue;
      }
      const scale = this.#scaleOf(pod.metadata.namespace ?? "", reference);
      if (scale === undefined) throw new Error(`found no controllers for pod "${pod.metadata.name ?? ""}"`);
      replicasByUid.set(scale.uid, scale.replicas);
    }
    let expectedCount = 0;
    for (const replicas of replicasByUid.values()) expectedCount += replicas;
    return { expectedCount, unmanagedPods };
  }

  /** The scale of a pod's controller: a ReplicaSet's Deployment if it has one, as upstream's finders. */
  #scaleOf(namespace: string, reference: OwnerReference): { uid: string; replicas: number } | undefined {
    const { informers } = this.#state();
    const replicaSet = owned(informers.replicaSets, namespace, reference, "ReplicaSet");
    const deployment = replicaSet === undefined ? undefined : owned(informers.deployments, namespace, controllerRefOf(replicaSet), "Deployment");
    if (replicaSet !== undefined && controllerRefOf(replicaSet)?.kind === "Deployment" && deployment === undefined) return undefined;
    const scaled: Scaled | undefined =
      deployment ?? replicaSet ?? owned(informers.statefulSets, namespace, reference, "StatefulSet") ?? owned(informers.replicationControllers, namespace, reference, "ReplicationController");
    if (scaled === undefined) return undefined;
    return { uid: scaled.metadata.uid ?? "", replicas: scaled.spec?.replicas ?? 1 };
  }

  /** One status PUT guarded by the budget's resourceVersion; a Conflict throws and the key is retried. */
  async #write(budget: PodDisruptionBudget, status: BudgetStatus): Promise<void> {
    const { context } = this.#state();
    if (budget.status !== undefined && deepEqual(budget.status as unknown as JsonValue, status as unknown as JsonValue)) return;
    await context.client.update<PodDisruptionBudget>(podDisruptionBudgetsResource, { ...budget, status }, { subresource: "status" });
  }
}
