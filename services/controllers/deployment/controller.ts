/**
 * The Deployment controller (pkg/controller/deployment): owns ReplicaSets named
 * `<deployment>-<pod-template-hash>`, one per template, and moves pods between them by the
 * strategy (RollingUpdate within maxSurge/maxUnavailable, or Recreate), with revision
 * annotations, revisionHistoryLimit cleanup, pause and resume, proportional scaling during a
 * rollout, and the status and conditions `kubectl rollout status` reads. Rollback is kubectl's
 * own (it copies an old ReplicaSet's template back); the old ReplicaSet then becomes the new one
 * and gets the next revision, as upstream.
 */
import { deepEqual, isStatusError, labelSelectorAsSelector } from "../../../libs/api/index.ts";
import type { Deployment, DeploymentStatus, JsonValue, KubeObject, Pod, ReplicaSet, Selector } from "../../../libs/api/index.ts";
import type { Controller, ControllerContext, Informer } from "../../../libs/client/types.ts";
import { claimObjects } from "../common/claim.ts";
import { findCondition } from "../common/conditions.ts";
import { controllerRefOf, newControllerRef } from "../common/pods.ts";
import { deploymentsResource, podsResource, replicaSetsResource } from "../common/resources.ts";
import { activeOrLatest, planOldScaleDown, planProportionalScale } from "./plan.ts";
import {
  calculateStatus,
  deploymentComplete,
  hasProgressDeadline,
  newCondition,
  reasonNewReplicaSetAvailable,
  reasonNewReplicaSetCreated,
  reasonFoundNewReplicaSet,
  reasonPaused,
  reasonResumed,
  reasonTimedOut,
  rolloutStatus,
  setDeploymentCondition,
} from "./status.ts";
import {
  activeReplicaSets,
  byCreation,
  computeHash,
  copiedAnnotations,
  desiredReplicasDiffer,
  equalIgnoreHash,
  findNewReplicaSet,
  isRollingUpdate,
  maxRevision,
  newReplicaSetTarget,
  podTemplateHashLabel,
  replicaAnnotations,
  replicasOf,
  revisionAnnotation,
  revisionHistoryLimitDefault,
  revisionOf,
  specReplicas,
  totalStatus,
} from "./util.ts";

const deploymentApiVersion = "apps/v1";

function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`;
}

function isDeleting(object: KubeObject): boolean {
  return (object.metadata.deletionTimestamp ?? null) !== null;
}

/** One reconcile's view: the Deployment as last written and its ReplicaSets as last written. */
interface Sync {
  key: string;
  deployment: Deployment;
  replicaSets: ReplicaSet[];
}

export class DeploymentController implements Controller {
  readonly name = "deployment";
  #context: ControllerContext | undefined;
  #deployments: Informer<Deployment> | undefined;
  #replicaSets: Informer<ReplicaSet> | undefined;
  #pods: Informer<Pod> | undefined;

  setup(context: ControllerContext): void {
    this.#context = context;
    this.#deployments = context.informers.informerFor<Deployment>(deploymentsResource);
    this.#replicaSets = context.informers.informerFor<ReplicaSet>(replicaSetsResource);
    this.#pods = context.informers.informerFor<Pod>(podsResource);
    const enqueue = (deployment: Deployment): void => context.queue.add(keyOf(deployment));
    this.#deployments.addHandlers({ onAdd: enqueue, onUpdate: (_previous, current) => enqueue(current), onDelete: enqueue });
    this.#replicaSets.addHandlers({
      onAdd: (rs) => this.#replicaSetChanged(undefined, rs),
      onUpdate: (previous, rs) => this.#replicaSetChanged(previous, rs),
      onDelete: (rs) => this.#enqueueOwner(rs),
    });
    // Recreate waits for old pods to be gone; their deletion is what wakes it.
    this.#pods.addHandlers({ onDelete: (pod) => this.#podDeleted(pod) });
  }

  #state(): { context: ControllerContext; deployments: Informer<Deployment>; replicaSets: Informer<ReplicaSet>; pods: Informer<Pod> } {
    if (this.#context === undefined || this.#deployments === undefined || this.#replicaSets === undefined || this.#pods === undefined) {
      throw new Error("deployment controller used before setup()");
    }
    return { context: this.#context, deployments: this.#deployments, replicaSets: this.#replicaSets, pods: this.#pods };
  }

  #ownerKey(rs: ReplicaSet): string | undefined {
    const reference = controllerRefOf(rs);
    if (reference === undefined || reference.kind !== "Deployment") return undefined;
    const key = `${rs.metadata.namespace ?? ""}/${reference.name}`;
    return this.#state().deployments.get(key)?.metadata.uid === reference.uid ? key : undefined;
  }

  #enqueueOwner(rs: ReplicaSet): void {
    const key = this.#ownerKey(rs);
    if (key !== undefined) this.#state().context.queue.add(key);
  }

  #replicaSetChanged(previous: ReplicaSet | undefined, rs: ReplicaSet): void {
    const { context, deployments } = this.#state();
    if (previous !== undefined) {
      const previousKey = this.#ownerKey(previous);
      if (previousKey !== undefined && previousKey !== this.#ownerKey(rs)) context.queue.add(previousKey);
    }
    if (controllerRefOf(rs) !== undefined) {
      this.#enqueueOwner(rs);
      return;
    }
    // An orphan: every Deployment whose selector matches may adopt it.
    for (const deployment of deployments.list()) {
      if (deployment.metadata.namespace !== rs.metadata.namespace) continue;
      if (selectorOf(deployment)?.matches(rs.metadata.labels) === true) context.queue.add(keyOf(deployment));
    }
  }

  #podDeleted(pod: Pod): void {
    const reference = controllerRefOf(pod);
    if (reference?.kind !== "ReplicaSet") return;
    const rs = this.#state().replicaSets.get(`${pod.metadata.namespace ?? ""}/${reference.name}`);
    if (rs === undefined) return;
    const key = this.#ownerKey(rs);
    const deployment = key === undefined ? undefined : this.#state().deployments.get(key);
    if (key !== undefined && deployment !== undefined && !isRollingUpdate(deployment)) this.#state().context.queue.add(key);
  }

  async reconcile(key: string): Promise<void> {
    const { context, deployments } = this.#state();
    const cached = deployments.get(key);
    if (cached === undefined) return;
    const deployment = structuredClone(cached);
    const selector = selectorOf(deployment);
    if (selector === undefined) return;
    const sync: Sync = { key, deployment, replicaSets: [] };
    if (selector.isEmpty()) {
      context.events.record(deployment, "Warning", "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.");
      if ((deployment.status?.observedGeneration ?? 0) < (deployment.metadata.generation ?? 0)) {
        await this.#writeStatus(sync, { ...(deployment.status ?? {}), observedGeneration: deployment.metadata.generation ?? 0 });
      }
      return;
    }
    sync.replicaSets = await this.#claimReplicaSets(deployment, selector);
    if (isDeleting(deployment)) {
      const { newReplicaSet, oldReplicaSets } = await this.#replicaSetsAndSyncRevision(sync, false);
      await this.#syncStatus(sync, [...oldReplicaSets, ...optional(newReplicaSet)], newReplicaSet);
      return;
    }
    await this.#checkPausedConditions(sync);
    if (sync.deployment.spec?.paused === true || (await this.#isScalingEvent(sync))) {
      await this.#scaleOnly(sync);
      return;
    }
    if (isRollingUpdate(sync.deployment)) await this.#rolloutRolling(sync);
    else await this.#rolloutRecreate(sync);
  }

  async #claimReplicaSets(deployment: Deployment, selector: Selector): Promise<ReplicaSet[]> {
    const { context, replicaSets } = this.#state();
    return await claimObjects<ReplicaSet>({
      client: context.client,
      resource: replicaSetsResource,
      owner: deployment,
      ownerRef: newControllerRef(deployment, deploymentApiVersion, "Deployment"),
      selector,
      candidates: replicaSets.listMatching(deployment.metadata.namespace, ""),
      ownerStillLive: async () => {
        try {
          const fresh = await context.client.get<Deployment>(deploymentsResource, deployment.metadata.namespace, deployment.metadata.name ?? "");
          return fresh.metadata.uid === deployment.metadata.uid && !isDeleting(fresh);
        } catch (error) {
          if (isStatusError(error, "NotFound")) return false;
          throw error;
        }
      },
    });
  }

  // getAllReplicaSetsAndSyncRevision: the new ReplicaSet (made when asked and missing) and the old ones.
  async #replicaSetsAndSyncRevision(sync: Sync, createIfMissing: boolean): Promise<{ newReplicaSet: ReplicaSet | undefined; oldReplicaSets: ReplicaSet[] }> {
    const found = findNewReplicaSet(sync.deployment, sync.replicaSets);
    const oldReplicaSets = sync.replicaSets.filter((rs) => rs.metadata.uid !== found?.metadata.uid);
    const revision = maxRevision(oldReplicaSets) + 1;
    let newReplicaSet: ReplicaSet | undefined;
    if (found !== undefined) newReplicaSet = await this.#syncExistingNewReplicaSet(sync, found, revision);
    else if (createIfMissing) newReplicaSet = await this.#createNewReplicaSet(sync, oldReplicaSets, revision);
    return { newReplicaSet, oldReplicaSets };
  }

  async #syncExistingNewReplicaSet(sync: Sync, rs: ReplicaSet, revision: number): Promise<ReplicaSet> {
    const annotations = { ...(rs.metadata.annotations ?? {}), ...copiedAnnotations(sync.deployment) };
    if (revisionOf(rs) < revision) annotations[revisionAnnotation] = String(revision);
    const minReadySeconds = sync.deployment.spec?.minReadySeconds ?? 0;
    let current = rs;
    if (!deepEqual(annotations, (rs.metadata.annotations ?? {}) as JsonValue) || (rs.spec?.minReadySeconds ?? 0) !== minReadySeconds) {
      const changed: ReplicaSet = { ...rs, metadata: { ...rs.metadata, annotations }, spec: { ...rs.spec!, minReadySeconds } };
      if (minReadySeconds === 0) delete changed.spec!.minReadySeconds;
      current = await this.#updateReplicaSet(sync, changed);
    }
    await this.#syncDeploymentRevision(sync, current);
    if (hasProgressDeadline(sync.deployment) && findCondition(sync.deployment.status?.conditions, "Progressing") === undefined) {
      const message = `Found new replica set "${current.metadata.name ?? ""}"`;
      const conditions = setDeploymentCondition(sync.deployment.status?.conditions, newCondition("Progressing", "True", reasonFoundNewReplicaSet, message, this.#nowMs()));
      await this.#writeStatus(sync, { ...(sync.deployment.status ?? {}), conditions });
    }
    return current;
  }

  async #createNewReplicaSet(sync: Sync, oldReplicaSets: ReplicaSet[], revision: number): Promise<ReplicaSet> {
    const { context } = this.#state();
    const deployment = sync.deployment;
    const hash = computeHash(deployment.spec?.template, deployment.status?.collisionCount);
    const template = structuredClone(deployment.spec!.template);
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [podTemplateHashLabel]: hash } };
    const selector = structuredClone(deployment.spec!.selector);
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [podTemplateHashLabel]: hash };
    const replicas = newReplicaSetTarget(deployment, oldReplicaSets, 0);
    const name = `${deployment.metadata.name ?? ""}-${hash}`;
    const rs: ReplicaSet = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name,
        namespace: deployment.metadata.namespace ?? "default",
        labels: { ...(template.metadata.labels ?? {}) },
        annotations: { ...copiedAnnotations(deployment), [revisionAnnotation]: String(revision), ...replicaAnnotations(deployment) },
        ownerReferences: [newControllerRef(deployment, deploymentApiVersion, "Deployment")],
      },
      spec: { replicas, selector, template },
    };
    if ((deployment.spec?.minReadySeconds ?? 0) > 0) rs.spec!.minReadySeconds = deployment.spec!.minReadySeconds!;
    let created: ReplicaSet;
    try {
      created = await context.client.create<ReplicaSet>(replicaSetsResource, rs);
    } catch (error) {
      if (!isStatusError(error, "AlreadyExists")) throw error;
      return await this.#resolveCollision(sync, name, error);
    }
    sync.replicaSets.push(created);
    if (replicas > 0) context.events.record(deployment, "Normal", "ScalingReplicaSet", `Scaled up replica set ${name} from 0 to ${replicas}`);
    await this.#syncDeploymentRevision(sync, created);
    if (hasProgressDeadline(sync.deployment)) {
      const condition = newCondition("Progressing", "True", reasonNewReplicaSetCreated, `Created new replica set "${name}"`, this.#nowMs());
      const conditions = setDeploymentCondition(sync.deployment.status?.conditions, condition);
      await this.#writeStatus(sync, { ...(sync.deployment.status ?? {}), conditions });
    }
    return created;
  }

  // A ReplicaSet of the new name exists: ours with this template (a lagging cache), or a hash
  // collision, which bumps collisionCount so that the next attempt hashes to another name.
  async #resolveCollision(sync: Sync, name: string, error: unknown): Promise<ReplicaSet> {
    const { context } = this.#state();
    const existing = await context.client.get<ReplicaSet>(replicaSetsResource, sync.deployment.metadata.namespace, name);
    if (controllerRefOf(existing)?.uid === sync.deployment.metadata.uid && equalIgnoreHash(existing.spec?.template, sync.deployment.spec?.template)) {
      sync.replicaSets.push(existing);
      return existing;
    }
    const collisionCount = (sync.deployment.status?.collisionCount ?? 0) + 1;
    await this.#writeStatus(sync, { ...(sync.deployment.status ?? {}), collisionCount });
    throw error;
  }

  // The Deployment carries the revision of its new ReplicaSet (SetDeploymentRevision).
  async #syncDeploymentRevision(sync: Sync, newReplicaSet: ReplicaSet): Promise<void> {
    const revision = newReplicaSet.metadata.annotations?.[revisionAnnotation];
    if (revision === undefined || sync.deployment.metadata.annotations?.[revisionAnnotation] === revision) return;
    const { context } = this.#state();
    const patch = { metadata: { annotations: { [revisionAnnotation]: revision } } };
    sync.deployment = await context.client.patch<Deployment>(deploymentsResource, sync.deployment.metadata.namespace, sync.deployment.metadata.name ?? "", "merge", patch);
  }

  async #checkPausedConditions(sync: Sync): Promise<void> {
    const deployment = sync.deployment;
    if (!hasProgressDeadline(deployment)) return;
    const current = findCondition(deployment.status?.conditions, "Progressing");
    if (current?.reason === reasonTimedOut) return;
    const pausedShown = current?.reason === reasonPaused;
    const paused = deployment.spec?.paused === true;
    let condition;
    if (paused && !pausedShown) condition = newCondition("Progressing", "Unknown", reasonPaused, "Deployment is paused", this.#nowMs());
    else if (!paused && pausedShown) condition = newCondition("Progressing", "Unknown", reasonResumed, "Deployment is resumed", this.#nowMs());
    if (condition === undefined) return;
    await this.#writeStatus(sync, { ...(deployment.status ?? {}), conditions: setDeploymentCondition(deployment.status?.conditions, condition) });
  }

  async #isScalingEvent(sync: Sync): Promise<boolean> {
    const { newReplicaSet, oldReplicaSets } = await this.#replicaSetsAndSyncRevision(sync, false);
    return activeReplicaSets([...oldReplicaSets, ...optional(newReplicaSet)]).some((rs) => desiredReplicasDiffer(rs, sync.deployment));
  }

  // sync(): scale for a paused Deployment or a resize, no rollout.
  async #scaleOnly(sync: Sync): Promise<void> {
    const { newReplicaSet, oldReplicaSets } = await this.#replicaSetsAndSyncRevision(sync, false);
    await this.#scale(sync, newReplicaSet, oldReplicaSets);
    const current = this.#current(sync, newReplicaSet, oldReplicaSets);
    if (sync.deployment.spec?.paused === true) await this.#cleanup(sync, current.oldReplicaSets);
    await this.#syncStatus(sync, current.all, current.newReplicaSet);
  }

  async #scale(sync: Sync, newReplicaSet: ReplicaSet | undefined, oldReplicaSets: ReplicaSet[]): Promise<void> {
    const deployment = sync.deployment;
    const only = activeOrLatest(newReplicaSet, oldReplicaSets);
    if (only !== undefined) {
      if (specReplicas(only) !== replicasOf(deployment)) await this.#scaleReplicaSet(sync, only, replicasOf(deployment));
      return;
    }
    if (isSaturated(deployment, newReplicaSet)) {
      for (const rs of activeReplicaSets(oldReplicaSets)) await this.#scaleReplicaSet(sync, rs, 0);
      return;
    }
    const all = [...oldReplicaSets, ...optional(newReplicaSet)];
    const plan = planProportionalScale(deployment, all);
    for (const rs of activeReplicaSets(all)) await this.#scaleReplicaSet(sync, rs, plan.get(rs.metadata.name ?? "") ?? specReplicas(rs));
  }

  async #rolloutRolling(sync: Sync): Promise<void> {
    const created = await this.#replicaSetsAndSyncRevision(sync, true);
    const newReplicaSet = created.newReplicaSet!;
    const desired = replicasOf(sync.deployment);
    const all = [...created.oldReplicaSets, newReplicaSet];
    if (specReplicas(newReplicaSet) !== desired) {
      const target = specReplicas(newReplicaSet) > desired ? desired : newReplicaSetTarget(sync.deployment, all, specReplicas(newReplicaSet));
      if (await this.#scaleReplicaSet(sync, newReplicaSet, target)) {
        const current = this.#current(sync, newReplicaSet, created.oldReplicaSets);
        await this.#syncStatus(sync, current.all, current.newReplicaSet, true);
        return;
      }
    }
    const plan = planOldScaleDown(sync.deployment, activeReplicaSets(created.oldReplicaSets), newReplicaSet);
    let scaledDown = false;
    for (const rs of created.oldReplicaSets) {
      const size = plan.get(rs.metadata.name ?? "");
      if (size !== undefined && (await this.#scaleReplicaSet(sync, rs, size))) scaledDown = true;
    }
    const current = this.#current(sync, newReplicaSet, created.oldReplicaSets);
    if (!scaledDown && deploymentComplete(sync.deployment, sync.deployment.status ?? {})) await this.#cleanup(sync, current.oldReplicaSets);
    await this.#syncStatus(sync, current.all, current.newReplicaSet, true);
  }

  async #rolloutRecreate(sync: Sync): Promise<void> {
    const found = await this.#replicaSetsAndSyncRevision(sync, false);
    let scaledDown = false;
    for (const rs of activeReplicaSets(found.oldReplicaSets)) if (await this.#scaleReplicaSet(sync, rs, 0)) scaledDown = true;
    if (scaledDown || this.#oldPodsRunning(found.oldReplicaSets)) {
      const current = this.#current(sync, found.newReplicaSet, found.oldReplicaSets);
      await this.#syncStatus(sync, current.all, current.newReplicaSet, true);
      return;
    }
    const created = found.newReplicaSet === undefined ? await this.#replicaSetsAndSyncRevision(sync, true) : found;
    const newReplicaSet = created.newReplicaSet!;
    await this.#scaleReplicaSet(sync, newReplicaSet, replicasOf(sync.deployment));
    const current = this.#current(sync, newReplicaSet, created.oldReplicaSets);
    if (deploymentComplete(sync.deployment, sync.deployment.status ?? {})) await this.#cleanup(sync, current.oldReplicaSets);
    await this.#syncStatus(sync, current.all, current.newReplicaSet, true);
  }

  // Recreate starts new pods only once no old pod may still run (oldPodsRunning).
  #oldPodsRunning(oldReplicaSets: ReplicaSet[]): boolean {
    if (totalStatus(oldReplicaSets, "replicas") > 0) return true;
    const oldUids = new Set(oldReplicaSets.map((rs) => rs.metadata.uid));
    const namespace = oldReplicaSets[0]?.metadata.namespace;
    if (namespace === undefined) return false;
    return this.#state()
      .pods.listMatching(namespace, "")
      .some((pod) => oldUids.has(controllerRefOf(pod)?.uid) && pod.status?.phase !== "Failed" && pod.status?.phase !== "Succeeded");
  }

  // The latest written copies of the given ReplicaSets.
  #current(sync: Sync, newReplicaSet: ReplicaSet | undefined, oldReplicaSets: ReplicaSet[]): { newReplicaSet: ReplicaSet | undefined; oldReplicaSets: ReplicaSet[]; all: ReplicaSet[] } {
    const latest = (rs: ReplicaSet): ReplicaSet => sync.replicaSets.find((candidate) => candidate.metadata.uid === rs.metadata.uid) ?? rs;
    const olds = oldReplicaSets.map(latest);
    const fresh = newReplicaSet === undefined ? undefined : latest(newReplicaSet);
    return { newReplicaSet: fresh, oldReplicaSets: olds, all: [...olds, ...optional(fresh)] };
  }

  /** Scales one ReplicaSet and refreshes its replica annotations; true when the size changed. */
  async #scaleReplicaSet(sync: Sync, rs: ReplicaSet, size: number): Promise<boolean> {
    const current = sync.replicaSets.find((candidate) => candidate.metadata.uid === rs.metadata.uid) ?? rs;
    const annotations = { ...(current.metadata.annotations ?? {}), ...replicaAnnotations(sync.deployment) };
    const from = specReplicas(current);
    if (from === size && deepEqual(annotations, (current.metadata.annotations ?? {}) as JsonValue)) return false;
    await this.#updateReplicaSet(sync, { ...current, metadata: { ...current.metadata, annotations }, spec: { ...current.spec!, replicas: size } });
    if (from === size) return false;
    const direction = size > from ? "up" : "down";
    this.#state().context.events.record(sync.deployment, "Normal", "ScalingReplicaSet", `Scaled ${direction} replica set ${current.metadata.name ?? ""} from ${from} to ${size}`);
    return true;
  }

  async #updateReplicaSet(sync: Sync, rs: ReplicaSet): Promise<ReplicaSet> {
    const written = await this.#state().context.client.update<ReplicaSet>(replicaSetsResource, rs);
    sync.replicaSets = sync.replicaSets.map((candidate) => (candidate.metadata.uid === written.metadata.uid ? written : candidate));
    return written;
  }

  // cleanupDeployment: keep revisionHistoryLimit old ReplicaSets that are scaled to zero.
  async #cleanup(sync: Sync, oldReplicaSets: ReplicaSet[]): Promise<void> {
    const limit = sync.deployment.spec?.revisionHistoryLimit ?? revisionHistoryLimitDefault;
    const cleanable = oldReplicaSets.filter((rs) => !isDeleting(rs));
    const excess = cleanable.length - limit;
    if (excess <= 0) return;
    cleanable.sort((left, right) => revisionOf(left) - revisionOf(right) || byCreation(left, right));
    const { context } = this.#state();
    for (const rs of cleanable.slice(0, excess)) {
      if ((rs.status?.replicas ?? 0) !== 0 || specReplicas(rs) !== 0 || (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      try {
        await context.client.delete(replicaSetsResource, rs.metadata.namespace, rs.metadata.name ?? "");
      } catch (error) {
        if (!isStatusError(error, "NotFound")) throw error;
      }
    }
  }

  /** Writes the status when it changed; with `rollout`, adds Progressing and requeues a stuck rollout. */
  async #syncStatus(sync: Sync, all: ReplicaSet[], newReplicaSet: ReplicaSet | undefined, rollout = false): Promise<void> {
    const status = rollout ? rolloutStatus(sync.deployment, all, newReplicaSet, this.#nowMs()) : calculateStatus(sync.deployment, all, newReplicaSet, this.#nowMs());
    if (!deepEqual((sync.deployment.status ?? {}) as JsonValue, status as JsonValue)) await this.#writeStatus(sync, status);
    if (rollout) this.#requeueStuck(sync, status);
  }

  // requeueStuckDeployment: look again when the progress deadline would pass.
  #requeueStuck(sync: Sync, status: DeploymentStatus): void {
    const condition = findCondition(status.conditions, "Progressing");
    if (!hasProgressDeadline(sync.deployment) || condition === undefined) return;
    if (condition.reason === reasonNewReplicaSetAvailable || condition.reason === reasonTimedOut) return;
    if (deploymentComplete(sync.deployment, status)) return;
    const fromMs = Date.parse(condition.lastUpdateTime ?? "") || this.#nowMs();
    const afterMs = fromMs + (sync.deployment.spec?.progressDeadlineSeconds ?? 0) * 1000 - this.#nowMs();
    // One second past the deadline: the timed-out check is strict.
    this.#state().context.queue.addAfter(sync.key, Math.max(0, afterMs) + 1000);
  }

  async #writeStatus(sync: Sync, status: DeploymentStatus): Promise<void> {
    const { context } = this.#state();
    sync.deployment = await context.client.update<Deployment>(deploymentsResource, { ...sync.deployment, status }, { subresource: "status" });
  }

  #nowMs(): number {
    return this.#state().context.nowMs();
  }
}

function optional<T>(value: T | undefined): T[] {
  return value === undefined ? [] : [value];
}

/** IsSaturated: the new ReplicaSet alone runs every replica, all available. */
function isSaturated(deployment: Deployment, newReplicaSet: ReplicaSet | undefined): boolean {
  if (newReplicaSet === undefined) return false;
  const desired = replicasOf(deployment);
  const annotated = newReplicaSet.metadata.annotations?.["deployment.kubernetes.io/desired-replicas"];
  return specReplicas(newReplicaSet) === desired && annotated === String(desired) && (newReplicaSet.status?.availableReplicas ?? 0) === desired;
}

function selectorOf(deployment: Deployment): Selector | undefined {
  try {
    return labelSelectorAsSelector(deployment.spec?.selector);
  } catch {
    return undefined;
  }
}
