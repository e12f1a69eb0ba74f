/**
 * The garbage collector's view of ownership (pkg/controller/garbagecollector's graph, reduced):
 * every watched object by uid with its owner references, and the dependents of every owner uid.
 * Built from informer events; owners that are not (yet) in the graph are looked up live by the
 * collector before it acts on their absence.
 */
import type { KubeObject, OwnerReference } from "../../../libs/api/index.ts";
import type { Resource } from "../../../libs/client/types.ts";

export interface GraphNode {
  resource: Resource;
  uid: string;
  namespace: string | undefined;
  name: string;
  ownerReferences: OwnerReference[];
  finalizers: string[];
  deleting: boolean;
}

export class OwnershipGraph {
  readonly #nodes = new Map<string, GraphNode>();
  readonly #dependents = new Map<string, Set<string>>();

  /** Records the object's latest state; returns the node it replaced, if any. */
  upsert(resource: Resource, object: KubeObject): GraphNode | undefined {
    const uid = object.metadata.uid ?? "";
    const previous = this.#nodes.get(uid);
    if (previous !== undefined) this.#unlink(previous);
    const node: GraphNode = {
      resource,
      uid,
      namespace: object.metadata.namespace,
      name: object.metadata.name ?? "",
      ownerReferences: [...(object.metadata.ownerReferences ?? [])],
      finalizers: [...(object.metadata.finalizers ?? [])],
      deleting: (object.metadata.deletionTimestamp ?? null) !== null,
    };
    this.#nodes.set(uid, node);
    for (const reference of node.ownerReferences) {
      let set = this.#dependents.get(reference.uid);
      if (set === undefined) {
        set = new Set();
        this.#dependents.set(reference.uid, set);
      }
      set.add(uid);
    }
    return previous;
  }

  remove(uid: string): GraphNode | undefined {
    const node = this.#nodes.get(uid);
    if (node === undefined) return undefined;
    this.#unlink(node);
    this.#nodes.delete(uid);
    return node;
  }

  get(uid: string): GraphNode | undefined {
    return this.#nodes.get(uid);
  }

  /** Objects that name `ownerUid` among their owners. */
  dependentsOf(ownerUid: string): GraphNode[] {
    const uids = this.#dependents.get(ownerUid);
    if (uids === undefined) return [];
    return [...uids].map((uid) => this.#nodes.get(uid)).filter((node): node is GraphNode => node !== undefined);
  }

  #unlink(node: GraphNode): void {
    for (const reference of node.ownerReferences) {
      const set = this.#dependents.get(reference.uid);
      set?.delete(node.uid);
      if (set?.size === 0) this.#dependents.delete(reference.uid);
    }
  }
}
