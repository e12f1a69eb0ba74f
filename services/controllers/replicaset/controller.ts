/**
 * The ReplicaSet controller (pkg/controller/replicaset): keeps `spec.replicas` active pods that
 * match the selector. It adopts matching orphans, releases pods relabelled out of the selector,
 * creates in growing batches of at most `burstReplicas`, deletes the pods ranked first by
 * `podsToDelete`, and waits on expectations so that a stale cache never makes extra pods.
 * Status: replicas, fullyLabeledReplicas, readyReplicas, availableReplicas, observedGeneration,
 * and the ReplicaFailure condition while creating or deleting fails.
 * The same class keeps core v1 ReplicationControllers when built with `replicationControllerKind`
 * (kinds.ts), as upstream's replication controller reuses this one.
 */
import { isStatusError } from "../../../libs/api/index.ts";
import type { KubeObject, Pod } from "../../../libs/api/index.ts";
import type { Controller, ControllerContext, Informer } from "../../../libs/client/types.ts";
import { claimObjects } from "../common/claim.ts";
import { Expectations } from "../common/expectations.ts";
import { controllerRefOf, isPodActive, isPodReady, newControllerRef, podFromTemplate } from "../common/pods.ts";
import { podsResource } from "../common/resources.ts";
import { slowStartBatch } from "../common/slow-start.ts";
import { replicaSetKind, type ReplicatedKind, type ReplicatedObject } from "./kinds.ts";
import { podsToDelete } from "./ranking.ts";
import { replicaSetStatus, statusEqual } from "./status.ts";
import type { ManageFailure } from "./status.ts";

/** Upstream's BurstReplicas: the most pods one reconcile creates or deletes. */
export const burstReplicasDefault = 500;
/** slowStartBatch's first batch. */
export const slowStartInitialBatchSize = 1;
/** Status writes retried on a Conflict, with a fresh read each time (statusUpdateRetries). */
export const statusUpdateRetries = 1;

export interface ReplicaSetControllerOptions {
  burstReplicas?: number;
  /** ReplicaSets by default; `replicationControllerKind` for ReplicationControllers. */
  kind?: ReplicatedKind;
}

type ReplicaSet = ReplicatedObject;

export function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`;
}

export class ReplicaSetController implements Controller {
  readonly name: string;
  readonly #burstReplicas: number;
  readonly #kind: ReplicatedKind;
  #context: ControllerContext | undefined;
  #replicaSets: Informer<ReplicaSet> | undefined;
  #pods: Informer<Pod> | undefined;
  #expectations: Expectations | undefined;

  constructor(options: ReplicaSetControllerOptions = {}) {
    this.#burstReplicas = options.burstReplicas ?? burstReplicasDefault;
    this.#kind = options.kind ?? replicaSetKind;
    this.name = this.#kind.controllerName;
  }

  /** Expectations, visible to tests. */
  get expectations(): Expectations {
    if (this.#expectations === undefined) throw new Error("replicaset controller used before setup()");
    return this.#expectations;
  }

  setup(context: ControllerContext): void {
    this.#context = context;
    this.#expectations = new Expectations(() => context.nowMs());
    this.#replicaSets = context.informers.informerFor<ReplicaSet>(this.#kind.resource);
    this.#pods = context.informers.informerFor<Pod>(podsResource);
    this.#replicaSets.addHandlers({
      onAdd: (rs) => context.queue.add(keyOf(rs)),
      onUpdate: (_previous, rs) => context.queue.add(keyOf(rs)),
      onDelete: (rs) => {
        this.expectations.forget(keyOf(rs));
        context.queue.add(keyOf(rs));
      },
    });
    this.#pods.addHandlers({
      onAdd: (pod) => this.#podAdded(pod),
      onUpdate: (previous, pod) => this.#podUpdated(previous, pod),
      onDelete: (pod) => this.#podDeleted(pod),
    });
  }

  #state(): { context: ControllerContext; replicaSets: Informer<ReplicaSet>; pods: Informer<Pod>; expectations: Expectations } {
    if (this.#context === undefined || this.#replicaSets === undefined || this.#pods === undefined || this.#expectations === undefined) {
      throw new Error("replicaset controller used before setup()");
    }
    return { context: this.#context, replicaSets: this.#replicaSets, pods: this.#pods, expectations: this.#expectations };
  }

  // The key of the ReplicaSet controlling this pod, if it still exists with the same uid.
  #ownerKey(pod: Pod): string | undefined {
    const reference = controllerRefOf(pod);
    if (reference === undefined || reference.kind !== this.#kind.kind) return undefined;
    const key = `${pod.metadata.namespace ?? ""}/${reference.name}`;
    const rs = this.#state().replicaSets.get(key);
    return rs?.metadata.uid === reference.uid ? key : undefined;
  }

  // An orphan wakes every ReplicaSet whose selector matches it, one of which may adopt it.
  #enqueueMatching(pod: Pod): void {
    const { context, replicaSets } = this.#state();
    for (const rs of replicaSets.list()) {
      if (rs.metadata.namespace !== pod.metadata.namespace) continue;
      if (this.#kind.selectorOf(rs)?.matches(pod.metadata.labels) === true) context.queue.add(keyOf(rs));
    }
  }

  #podAdded(pod: Pod): void {
    if ((pod.metadata.deletionTimestamp ?? null) !== null) {
      this.#podDeleted(pod);
      return;
    }
    if (controllerRefOf(pod) === undefined) {
      this.#enqueueMatching(pod);
      return;
    }
    const key = this.#ownerKey(pod);
    if (key === undefined) return;
    this.expectations.creationObserved(key);
    this.#state().context.queue.add(key);
  }

  #podUpdated(previous: Pod, pod: Pod): void {
    if (previous.metadata.resourceVersion === pod.metadata.resourceVersion) return;
    const { context, replicaSets } = this.#state();
    const labelsChanged = JSON.stringify(previous.metadata.labels ?? {}) !== JSON.stringify(pod.metadata.labels ?? {});
    if ((pod.metadata.deletionTimestamp ?? null) !== null) {
      // A graceful delete: count it as gone now, the pod will not come back.
      this.#podDeleted(pod);
      if (labelsChanged) this.#podDeleted(previous);
      return;
    }
    const previousKey = this.#ownerKey(previous);
    const key = this.#ownerKey(pod);
    if (previousKey !== undefined && previousKey !== key) context.queue.add(previousKey);
    if (key !== undefined) {
      context.queue.add(key);
      const minReadySeconds = replicaSets.get(key)?.spec?.minReadySeconds ?? 0;
      // Becoming available happens minReadySeconds after becoming ready, with no event of its own.
      if (minReadySeconds > 0 && !isPodReady(previous) && isPodReady(pod)) context.queue.addAfter(key, minReadySeconds * 1000);
      return;
    }
    if (labelsChanged || previousKey !== undefined) this.#enqueueMatching(pod);
  }

  #podDeleted(pod: Pod): void {
    const key = this.#ownerKey(pod);
    if (key === undefined) return;
    this.expectations.deletionObserved(key, pod.metadata.uid ?? "");
    this.#state().context.queue.add(key);
  }

  async reconcile(key: string): Promise<void> {
    const { context, replicaSets, pods, expectations } = this.#state();
    const rs = replicaSets.get(key);
    if (rs === undefined) {
      expectations.forget(key);
      return;
    }
    const selector = this.#kind.selectorOf(rs);
    if (selector === undefined) {
      context.events.record(rs, "Warning", "InvalidSelector", "the selector is invalid");
      return;
    }
    const needsSync = expectations.satisfied(key);
    const active = pods.listMatching(rs.metadata.namespace, "").filter(isPodActive);
    const controlled = await claimObjects<Pod>({
      client: context.client,
      resource: podsResource,
      owner: rs,
      ownerRef: newControllerRef(rs, this.#kind.apiVersion, this.#kind.kind),
      selector,
      candidates: active,
      ownerStillLive: () => this.#stillLive(rs),
    });
    let failure: ManageFailure | undefined;
    if (needsSync && (rs.metadata.deletionTimestamp ?? null) === null) failure = await this.#manageReplicas(key, rs, controlled);
    const status = replicaSetStatus(rs, controlled, failure, context.nowMs());
    const updated = await this.#writeStatus(rs, status);
    const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
    const replicas = rs.spec?.replicas ?? 1;
    if (failure === undefined && minReadySeconds > 0 && (updated.readyReplicas ?? 0) === replicas && (updated.availableReplicas ?? 0) !== replicas) {
      context.queue.addAfter(key, minReadySeconds * 1000);
    }
    if (failure !== undefined) throw new Error(`${key}: ${failure.message}`);
  }

  // RecheckDeletionTimestamp: read the owner past the cache before adopting anything.
  async #stillLive(rs: ReplicaSet): Promise<boolean> {
    try {
      const fresh = await this.#state().context.client.get<ReplicaSet>(this.#kind.resource, rs.metadata.namespace, rs.metadata.name ?? "");
      return fresh.metadata.uid === rs.metadata.uid && (fresh.metadata.deletionTimestamp ?? null) === null;
    } catch (error) {
      if (isStatusError(error, "NotFound")) return false;
      throw error;
    }
  }

  async #manageReplicas(key: string, rs: ReplicaSet, controlled: Pod[]): Promise<ManageFailure | undefined> {
    const difference = controlled.length - (rs.spec?.replicas ?? 1);
    if (difference < 0) return await this.#createPods(key, rs, Math.min(-difference, this.#burstReplicas));
    if (difference > 0) return await this.#deletePods(key, rs, controlled, Math.min(difference, this.#burstReplicas));
    return undefined;
  }

  async #createPods(key: string, rs: ReplicaSet, count: number): Promise<ManageFailure | undefined> {
    const { context, expectations } = this.#state();
    // Expect first: the informer may report a new pod before create() returns.
    expectations.expect(key, count, []);
    const template = rs.spec?.template;
    const ownerRef = newControllerRef(rs, this.#kind.apiVersion, this.#kind.kind);
    const result = await slowStartBatch(count, slowStartInitialBatchSize, async () => {
      try {
        const created = await context.client.create<Pod>(podsResource, podFromTemplate(template, rs, ownerRef));
        context.events.record(rs, "Normal", "SuccessfulCreate", `Created pod: ${created.metadata.name ?? ""}`);
      } catch (error) {
        expectations.creationObserved(key);
        context.events.record(rs, "Warning", "FailedCreate", `Error creating: ${(error as Error).message}`);
        throw error;
      }
    });
    for (let index = 0; index < result.skipped; index++) expectations.creationObserved(key);
    if (result.errors.length === 0) return undefined;
    return { reason: "FailedCreate", message: (result.errors[0] as Error).message };
  }

  async #deletePods(key: string, rs: ReplicaSet, controlled: Pod[], count: number): Promise<ManageFailure | undefined> {
    const { context, expectations } = this.#state();
    const victims = podsToDelete(controlled, controlled, count, context.nowMs());
    expectations.expect(key, 0, victims.map((pod) => pod.metadata.uid ?? ""));
    const outcomes = await Promise.allSettled(
      victims.map(async (pod) => {
        try {
          await context.client.delete(podsResource, pod.metadata.namespace, pod.metadata.name ?? "");
          context.events.record(rs, "Normal", "SuccessfulDelete", `Deleted pod: ${pod.metadata.name ?? ""}`);
        } catch (error) {
          expectations.deletionObserved(key, pod.metadata.uid ?? "");
          if (isStatusError(error, "NotFound")) return;
          context.events.record(rs, "Warning", "FailedDelete", `Error deleting: ${(error as Error).message}`);
          throw error;
        }
      }),
    );
    const failed = outcomes.find((outcome) => outcome.status === "rejected");
    return failed === undefined ? undefined : { reason: "FailedDelete", message: ((failed as PromiseRejectedResult).reason as Error).message };
  }

  async #writeStatus(rs: ReplicaSet, status: NonNullable<ReplicaSet["status"]>): Promise<NonNullable<ReplicaSet["status"]>> {
    const { context } = this.#state();
    let current = rs;
    for (let attempt = 0; ; attempt++) {
      if (statusEqual(current.status, status)) return status;
      try {
        const written = await context.client.update<ReplicaSet>(this.#kind.resource, { ...current, status }, { subresource: "status" });
        return written.status ?? status;
      } catch (error) {
        if (!isStatusError(error, "Conflict") || attempt >= statusUpdateRetries) throw error;
        current = await context.client.get<ReplicaSet>(this.#kind.resource, rs.metadata.namespace, rs.metadata.name ?? "");
      }
    }
  }
}
