/**
 * The garbage collector (pkg/controller/garbagecollector): deletes objects whose owners are all
 * gone, honouring how the owner was deleted.
 * - Background: the owner is removed at once; its dependents, now dangling, are deleted.
 * - Foreground: the owner stays (deletionTimestamp, `foregroundDeletion` finalizer) while its
 *   dependents are deleted; once none with blockOwnerDeletion is left the finalizer goes.
 * - Orphan: the owner's `orphan` finalizer makes the collector strip the owner's reference from
 *   its dependents, then drop the finalizer; the dependents live on.
 * A dependent with another owner still alive only loses its dangling references. Absence is
 * confirmed with a live read (the cache may lag), and deletes carry the uid as precondition.
 * Queue keys are object uids.
 */
import { allResources, isStatusError, preferredVersion, resourceForObject } from "../../../libs/api/index.ts";
import type { DeletionPropagation, KubeObject, OwnerReference } from "../../../libs/api/index.ts";
import type { Controller, ControllerContext, Resource } from "../../../libs/client/types.ts";
import { releasePatch } from "../common/claim.ts";
import { OwnershipGraph } from "./graph.ts";
import type { GraphNode } from "./graph.ts";

export const orphanFinalizer = "orphan";
export const foregroundFinalizer = "foregroundDeletion";

/** Kinds the collector does not watch: events churn and own nothing. */
const unwatched = new Set(["events", "events.events.k8s.io"]);

/** Every stored, watchable resource at its group's preferred version. */
export function collectedResources(): Resource[] {
  return allResources().filter((info) => {
    const name = info.group === "" ? info.resource : `${info.resource}.${info.group}`;
    return info.stored && info.verbs.includes("watch") && preferredVersion(info.group) === info.version && !unwatched.has(name);
  });
}

type OwnerState = "solid" | "dangling" | "waiting";

export class GarbageCollector implements Controller {
  readonly name = "garbagecollector";
  readonly graph = new OwnershipGraph();
  #context: ControllerContext | undefined;

  setup(context: ControllerContext): void {
    this.#context = context;
    for (const resource of collectedResources()) {
      context.informers.informerFor<KubeObject>(resource).addHandlers({
        onAdd: (object) => this.#observed(resource, object),
        onUpdate: (_previous, object) => this.#observed(resource, object),
        onDelete: (object) => this.#removed(object),
      });
    }
  }

  #ctx(): ControllerContext {
    if (this.#context === undefined) throw new Error("garbage collector used before setup()");
    return this.#context;
  }

  #observed(resource: Resource, object: KubeObject): void {
    const node = this.graph.upsert(resource, object);
    const current = this.graph.get(object.metadata.uid ?? "")!;
    const queue = this.#ctx().queue;
    if (current.ownerReferences.length > 0) queue.add(current.uid);
    if (current.deleting && (current.finalizers.includes(orphanFinalizer) || current.finalizers.includes(foregroundFinalizer))) queue.add(current.uid);
    // An owner that starts a foreground deletion makes its dependents' owners "waiting".
    if (current.deleting && node?.deleting !== true) for (const dependent of this.graph.dependentsOf(current.uid)) queue.add(dependent.uid);
  }

  #removed(object: KubeObject): void {
    const node = this.graph.remove(object.metadata.uid ?? "");
    if (node === undefined) return;
    const queue = this.#ctx().queue;
    for (const dependent of this.graph.dependentsOf(node.uid)) queue.add(dependent.uid);
    // An owner in foreground deletion waits for this one to go.
    for (const reference of node.ownerReferences) queue.add(reference.uid);
  }

  async reconcile(uid: string): Promise<void> {
    const node = this.graph.get(uid);
    if (node === undefined) return;
    if (node.deleting && node.finalizers.includes(orphanFinalizer)) {
      await this.#orphanDependents(node);
      return;
    }
    if (node.deleting && node.finalizers.includes(foregroundFinalizer)) await this.#processDeletingDependents(node);
    if (node.ownerReferences.length > 0) await this.#attemptToDelete(node);
  }

  async #orphanDependents(owner: GraphNode): Promise<void> {
    const client = this.#ctx().client;
    for (const dependent of this.graph.dependentsOf(owner.uid)) {
      try {
        await client.patch(dependent.resource, dependent.namespace, dependent.name, "strategic", releasePatch(owner.uid, dependent.uid));
      } catch (error) {
        if (!isStatusError(error, "NotFound")) throw error;
      }
    }
    await this.#removeFinalizer(owner, orphanFinalizer);
  }

  async #processDeletingDependents(owner: GraphNode): Promise<void> {
    const blocking = this.graph.dependentsOf(owner.uid).filter((dependent) =>
      dependent.ownerReferences.some((reference) => reference.uid === owner.uid && reference.blockOwnerDeletion === true),
    );
    if (blocking.length === 0) {
      await this.#removeFinalizer(owner, foregroundFinalizer);
      return;
    }
    for (const dependent of blocking) if (!dependent.deleting) this.#ctx().queue.add(dependent.uid);
  }

  async #removeFinalizer(node: GraphNode, finalizer: string): Promise<void> {
    const client = this.#ctx().client;
    let current: KubeObject;
    try {
      current = await client.get<KubeObject>(node.resource, node.namespace, node.name);
    } catch (error) {
      if (isStatusError(error, "NotFound")) return;
      throw error;
    }
    if (current.metadata.uid !== node.uid || !(current.metadata.finalizers ?? []).includes(finalizer)) return;
    const finalizers = (current.metadata.finalizers ?? []).filter((candidate) => candidate !== finalizer);
    await client.update(node.resource, { ...current, metadata: { ...current.metadata, finalizers } });
  }

  async #attemptToDelete(node: GraphNode): Promise<void> {
    if (node.deleting && !node.finalizers.includes(foregroundFinalizer)) return;
    const states = await Promise.all(node.ownerReferences.map(async (reference) => ({ reference, state: await this.#ownerState(node, reference) })));
    const solid = states.filter((entry) => entry.state === "solid");
    const gone = states.filter((entry) => entry.state !== "solid");
    if (solid.length > 0) {
      if (gone.length === 0) return;
      await this.#dropReferences(node, gone.map((entry) => entry.reference.uid));
      return;
    }
    if (node.deleting) return;
    const waiting = states.some((entry) => entry.state === "waiting");
    let policy: DeletionPropagation = "Background";
    if (node.finalizers.includes(orphanFinalizer)) policy = "Orphan";
    else if (node.finalizers.includes(foregroundFinalizer) || (waiting && this.graph.dependentsOf(node.uid).length > 0)) policy = "Foreground";
    try {
      await this.#ctx().client.delete(node.resource, node.namespace, node.name, { propagationPolicy: policy, preconditions: { uid: node.uid } });
    } catch (error) {
      if (!isStatusError(error, "NotFound") && !isStatusError(error, "Conflict")) throw error;
    }
  }

  async #dropReferences(node: GraphNode, ownerUids: string[]): Promise<void> {
    const patch = { metadata: { ownerReferences: ownerUids.map((uid) => ({ $patch: "delete", uid })), uid: node.uid } };
    try {
      await this.#ctx().client.patch(node.resource, node.namespace, node.name, "strategic", patch);
    } catch (error) {
      if (!isStatusError(error, "NotFound")) throw error;
    }
  }

  // An owner is solid when it exists and is not waiting on its dependents, dangling when a live
  // read finds no object of that uid, waiting while it is in foreground deletion.
  async #ownerState(node: GraphNode, reference: OwnerReference): Promise<OwnerState> {
    const known = this.graph.get(reference.uid);
    if (known !== undefined) return known.deleting && known.finalizers.includes(foregroundFinalizer) ? "waiting" : "solid";
    const resource = resourceForObject(reference.apiVersion, reference.kind);
    // An owner of a kind this server does not serve can never be found: leave the object alone.
    if (resource === undefined) return "solid";
    try {
      const owner = await this.#ctx().client.get<KubeObject>(resource, resource.namespaced ? node.namespace : undefined, reference.name);
      if (owner.metadata.uid !== reference.uid) return "dangling";
      const deleting = (owner.metadata.deletionTimestamp ?? null) !== null;
      return deleting && (owner.metadata.finalizers ?? []).includes(foregroundFinalizer) ? "waiting" : "solid";
    } catch (error) {
      if (isStatusError(error, "NotFound")) return "dangling";
      throw error;
    }
  }
}
