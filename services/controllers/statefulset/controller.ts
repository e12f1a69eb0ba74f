/**
 * The StatefulSet controller (pkg/controller/statefulset): pods `<set>-0..N-1` with stable names,
 * hostnames and PVCs (created from volumeClaimTemplates, never deleted, so a pod made again
 * mounts its old claim). OrderedReady creates one ordinal at a time, each only once its
 * predecessors are Running and Ready, and scales down from the highest ordinal; Parallel does
 * both at once. Templates are kept as ControllerRevisions `<set>-<hash>`; RollingUpdate replaces
 * pods in reverse ordinal order down to the partition, one at a time once all are ready; OnDelete
 * waits for the user. A name is never reused while its pod still exists, so two pods never share
 * an identity.
 */
import { deepEqual, isStatusError, labelSelectorAsSelector } from "../../../libs/api/index.ts";
import type { ControllerRevision, JsonValue, KubeObject, PersistentVolumeClaim, Pod, PodTemplateSpec, StatefulSet, StatefulSetStatus } from "../../../libs/api/index.ts";
import type { Controller, ControllerContext, Informer } from "../../../libs/client/types.ts";
import { claimObjects } from "../common/claim.ts";
import { controllerRefOf, isPodReady, newControllerRef } from "../common/pods.ts";
import { controllerRevisionsResource, persistentVolumeClaimsResource, podsResource, statefulSetsResource } from "../common/resources.ts";
import { computeHash } from "../deployment/util.ts";
import { claimsFor, newStatefulPod, ordinalOf, ordinalStart, podRevision } from "./identity.ts";

function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`;
}

function isRunningAndReady(pod: Pod): boolean {
  return pod.status?.phase === "Running" && isPodReady(pod);
}

function isDeleting(pod: KubeObject): boolean {
  return (pod.metadata.deletionTimestamp ?? null) !== null;
}

/** What one reconcile works with: the set, its pods by ordinal, and the two revisions' templates. */
interface SetState {
  set: StatefulSet;
  byOrdinal: Map<number, Pod>;
  condemned: Pod[];
  updateRevision: string;
  currentRevision: string;
  currentTemplate: PodTemplateSpec | undefined;
  monotonic: boolean;
}

export class StatefulSetController implements Controller {
  readonly name = "statefulset";
  #context: ControllerContext | undefined;
  #sets: Informer<StatefulSet> | undefined;
  #pods: Informer<Pod> | undefined;
  #claims: Informer<PersistentVolumeClaim> | undefined;
  #revisions: Informer<ControllerRevision> | undefined;

  setup(context: ControllerContext): void {
    this.#context = context;
    this.#sets = context.informers.informerFor<StatefulSet>(statefulSetsResource);
    this.#pods = context.informers.informerFor<Pod>(podsResource);
    this.#claims = context.informers.informerFor<PersistentVolumeClaim>(persistentVolumeClaimsResource);
    this.#revisions = context.informers.informerFor<ControllerRevision>(controllerRevisionsResource);
    this.#sets.addHandlers({ onAdd: (set) => context.queue.add(keyOf(set)), onUpdate: (_previous, set) => context.queue.add(keyOf(set)) });
    const podChanged = (pod: Pod): void => {
      const reference = controllerRefOf(pod);
      if (reference?.kind === "StatefulSet") context.queue.add(`${pod.metadata.namespace ?? ""}/${reference.name}`);
    };
    this.#pods.addHandlers({ onAdd: podChanged, onUpdate: (_previous, pod) => podChanged(pod), onDelete: podChanged });
  }

  #state(): { context: ControllerContext; sets: Informer<StatefulSet>; pods: Informer<Pod>; claims: Informer<PersistentVolumeClaim>; revisions: Informer<ControllerRevision> } {
    if (this.#context === undefined || this.#sets === undefined || this.#pods === undefined || this.#claims === undefined || this.#revisions === undefined) {
      throw new Error("statefulset controller used before setup()");
    }
    return { context: this.#context, sets: this.#sets, pods: this.#pods, claims: this.#claims, revisions: this.#revisions };
  }

  async reconcile(key: string): Promise<void> {
    const cached = this.#state().sets.get(key);
    if (cached === undefined || isDeleting(cached)) return;
    const set = structuredClone(cached);
    let selector;
    try {
      selector = labelSelectorAsSelector(set.spec?.selector);
    } catch {
      return;
    }
    const { context, pods } = this.#state();
    const owned = await claimObjects<Pod>({
      client: context.client,
      resource: podsResource,
      owner: set,
      ownerRef: newControllerRef(set, "apps/v1", "StatefulSet"),
      selector,
      candidates: pods.listMatching(set.metadata.namespace, ""),
      ownerStillLive: async () => true,
    });
    const state = await this.#stateOf(set, owned);
    await this.#converge(state);
    await this.#writeStatus(state);
  }

  async #stateOf(set: StatefulSet, owned: Pod[]): Promise<SetState> {
    const start = ordinalStart(set);
    const replicas = set.spec?.replicas ?? 1;
    const byOrdinal = new Map<number, Pod>();
    const condemned: Pod[] = [];
    for (const pod of owned) {
      const ordinal = ordinalOf(set, pod);
      if (ordinal === undefined) continue;
      if (ordinal >= start && ordinal < start + replicas) byOrdinal.set(ordinal, pod);
      else condemned.push(pod);
    }
    condemned.sort((left, right) => (ordinalOf(set, right) ?? 0) - (ordinalOf(set, left) ?? 0));
    const updateRevision = await this.#ensureRevision(set);
    const currentRevision = set.status?.currentRevision ?? updateRevision;
    const currentTemplate = currentRevision === updateRevision ? set.spec?.template : (this.#templateOf(set, currentRevision) ?? set.spec?.template);
    return { set, byOrdinal, condemned, updateRevision, currentRevision, currentTemplate, monotonic: (set.spec?.podManagementPolicy ?? "OrderedReady") === "OrderedReady" };
  }

  // The update revision as a ControllerRevision holding the template (what rollout undo reads).
  async #ensureRevision(set: StatefulSet): Promise<string> {
    const { context, revisions } = this.#state();
    // collisionCount 0 (what the status carries from the first write) hashes like none.
    const collisionCount = set.status?.collisionCount === 0 ? undefined : set.status?.collisionCount;
    const name = `${set.metadata.name ?? ""}-${computeHash(set.spec?.template, collisionCount)}`;
    if (revisions.get(`${set.metadata.namespace ?? ""}/${name}`) !== undefined) return name;
    const existing = revisions.listMatching(set.metadata.namespace, "").filter((revision) => controllerRefOf(revision)?.uid === set.metadata.uid);
    const revision: ControllerRevision = {
      apiVersion: "apps/v1",
      kind: "ControllerRevision",
      metadata: { name, namespace: set.metadata.namespace ?? "default", labels: { ...(set.spec?.selector.matchLabels ?? {}) }, ownerReferences: [newControllerRef(set, "apps/v1", "StatefulSet")] },
      data: { spec: { template: { ...(structuredClone(set.spec?.template ?? {}) as object), $patch: "replace" } } } as JsonValue,
      revision: existing.reduce((max, candidate) => Math.max(max, candidate.revision), 0) + 1,
    };
    try {
      await context.client.create(controllerRevisionsResource, revision);
    } catch (error) {
      if (!isStatusError(error, "AlreadyExists")) throw error;
    }
    return name;
  }

  #templateOf(set: StatefulSet, revisionName: string): PodTemplateSpec | undefined {
    const revision = this.#state().revisions.get(`${set.metadata.namespace ?? ""}/${revisionName}`);
    const data = revision?.data as { spec?: { template?: PodTemplateSpec & { $patch?: string } } } | undefined;
    const template = data?.spec?.template;
    if (template === undefined) return undefined;
    const copy = structuredClone(template);
    delete copy.$patch;
    return copy;
  }

  /** Creates, replaces and deletes pods; stops where OrderedReady has to wait. */
  async #converge(state: SetState): Promise<void> {
    const { set, byOrdinal, monotonic } = state;
    const start = ordinalStart(set);
    const replicas = set.spec?.replicas ?? 1;
    for (let ordinal = start; ordinal < start + replicas; ordinal++) {
      const pod = byOrdinal.get(ordinal);
      if (pod === undefined) {
        await this.#createPod(state, ordinal);
        if (monotonic) return;
        continue;
      }
      if (pod.status?.phase === "Failed" && !isDeleting(pod)) {
        await this.#deletePod(set, pod);
        if (monotonic) return;
        continue;
      }
      if (monotonic && (isDeleting(pod) || !isRunningAndReady(pod))) return;
    }
    for (const pod of state.condemned) {
      if (isDeleting(pod)) {
        if (monotonic) return;
        continue;
      }
      await this.#deletePod(set, pod);
      if (monotonic) return;
    }
    await this.#rollingUpdate(state);
  }

  // Reverse ordinal order down to the partition, one pod at a time, only when all are ready.
  async #rollingUpdate(state: SetState): Promise<void> {
    const { set, byOrdinal } = state;
    if ((set.spec?.updateStrategy?.type ?? "RollingUpdate") !== "RollingUpdate") return;
    const pods = [...byOrdinal.values()];
    if (pods.length !== (set.spec?.replicas ?? 1) || !pods.every((pod) => isRunningAndReady(pod) && !isDeleting(pod))) return;
    const partition = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    const ordinals = [...byOrdinal.keys()].sort((left, right) => right - left);
    for (const ordinal of ordinals) {
      if (ordinal - ordinalStart(set) < partition) return;
      const pod = byOrdinal.get(ordinal)!;
      if (podRevision(pod) !== state.updateRevision) {
        await this.#deletePod(set, pod);
        return;
      }
    }
  }

  async #createPod(state: SetState, ordinal: number): Promise<void> {
    const { set } = state;
    const { context, claims } = this.#state();
    for (const claim of claimsFor(set, ordinal)) {
      if (claims.get(`${claim.metadata.namespace ?? ""}/${claim.metadata.name ?? ""}`) !== undefined) continue;
      try {
        await context.client.create(persistentVolumeClaimsResource, claim);
        context.events.record(set, "Normal", "SuccessfulCreate", `create Claim ${claim.metadata.name ?? ""} Pod ${set.metadata.name ?? ""}-${ordinal} in StatefulSet ${set.metadata.name ?? ""} success`);
      } catch (error) {
        if (!isStatusError(error, "AlreadyExists")) throw error;
      }
    }
    // Ordinals below the partition stay at the current revision (newVersionedStatefulSetPod).
    const partition = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    const rolling = (set.spec?.updateStrategy?.type ?? "RollingUpdate") === "RollingUpdate";
    const atCurrent = rolling && ordinal - ordinalStart(set) < partition;
    const revision = atCurrent ? state.currentRevision : state.updateRevision;
    const pod = newStatefulPod(set, atCurrent ? state.currentTemplate : set.spec?.template, ordinal, revision);
    try {
      await context.client.create(podsResource, pod);
      context.events.record(set, "Normal", "SuccessfulCreate", `create Pod ${pod.metadata.name ?? ""} in StatefulSet ${set.metadata.name ?? ""} successful`);
    } catch (error) {
      // The old pod of this name is still going: never two pods with one identity.
      if (!isStatusError(error, "AlreadyExists")) throw error;
    }
  }

  async #deletePod(set: StatefulSet, pod: Pod): Promise<void> {
    const { context } = this.#state();
    try {
      await context.client.delete(podsResource, pod.metadata.namespace, pod.metadata.name ?? "", { preconditions: { uid: pod.metadata.uid ?? "" } });
      context.events.record(set, "Normal", "SuccessfulDelete", `delete Pod ${pod.metadata.name ?? ""} in StatefulSet ${set.metadata.name ?? ""} successful`);
    } catch (error) {
      if (!isStatusError(error, "NotFound") && !isStatusError(error, "Conflict")) throw error;
    }
  }

  async #writeStatus(state: SetState): Promise<void> {
    const { set } = state;
    const { context, pods } = this.#state();
    const start = ordinalStart(set);
    const replicas = set.spec?.replicas ?? 1;
    const current = pods
      .listMatching(set.metadata.namespace, "")
      .filter((pod) => controllerRefOf(pod)?.uid === set.metadata.uid && !isDeleting(pod))
      .filter((pod) => {
        const ordinal = ordinalOf(set, pod);
        return ordinal !== undefined && ordinal >= start && ordinal < start + replicas;
      });
    const updated = current.filter((pod) => podRevision(pod) === state.updateRevision).length;
    const ready = current.filter(isRunningAndReady).length;
    const status: StatefulSetStatus = {
      observedGeneration: set.metadata.generation ?? 0,
      replicas: current.length,
      readyReplicas: ready,
      currentReplicas: current.filter((pod) => podRevision(pod) === state.currentRevision).length,
      updatedReplicas: updated,
      currentRevision: state.currentRevision,
      updateRevision: state.updateRevision,
      collisionCount: set.status?.collisionCount ?? 0,
      availableReplicas: ready,
    };
    // The rollout is done once every replica runs the update revision.
    if (updated === replicas && current.length === replicas) {
      status.currentRevision = state.updateRevision;
      status.currentReplicas = updated;
    }
    if (deepEqual((set.status ?? {}) as JsonValue, status as unknown as JsonValue)) return;
    await context.client.update<StatefulSet>(statefulSetsResource, { ...set, status }, { subresource: "status" });
  }
}
