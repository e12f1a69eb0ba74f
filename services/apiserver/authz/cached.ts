/**
 * The authorizer the server runs: system:masters first (upstream's privileged-group authorizer),
 * then the node authorizer, then RBAC, each fed from the watch caches (Storages) so a decision
 * costs no store read. The caches lag the store by a watch event: a binding created a moment ago
 * may take that long to take effect, as with upstream's informers.
 */
import { findResource, type ResourceInfo } from "../../../libs/api/registry.ts";
import type { Storages } from "../storages.ts";
import { namespacePrefix, resourcePrefix, type StoredObject } from "../storage/index.ts";
import { allow, type Attributes, type Decision } from "./attributes.ts";
import { authorizeNode, needsBoundPods, nodeNameOf, type IngressTlsReferences, type PodReferences } from "./node.ts";
import { authorizeRbac, rbacGroup, type BindingObject, type RbacSnapshot, type RoleObject } from "./rbac.ts";

export const mastersGroup = "system:masters";

function resourceInfo(group: string, resource: string): ResourceInfo {
  const info = findResource(group, "v1", resource);
  if (info === undefined) throw new Error(`the registry has no ${resource}.${group}`);
  return info;
}

function byName(objects: readonly StoredObject[]): Map<string, RoleObject> {
  const map = new Map<string, RoleObject>();
  for (const object of objects) {
    const role = object as unknown as RoleObject;
    map.set(role.metadata.name ?? "", role);
  }
  return map;
}

export class CachedAuthorizer {
  readonly #storages: Storages;

  constructor(storages: Storages) {
    this.#storages = storages;
  }

  async authorize(attributes: Attributes): Promise<Decision> {
    if (attributes.user.groups.includes(mastersGroup)) return allow("system:masters");
    const node = nodeNameOf(attributes.user);
    let nodeDecision: Decision | undefined;
    if (node !== undefined) {
      const ingresses = attributes.kind === "resource" && attributes.apiGroup === "" && attributes.resource === "secrets" && attributes.namespace !== "" ? await this.#list("networking.k8s.io", "ingresses", attributes.namespace) : [];
      nodeDecision = authorizeNode(attributes, needsBoundPods(attributes) ? await this.#boundPods(node) : [], ingresses as unknown as IngressTlsReferences[]);
      if (nodeDecision.decision === "allow") return nodeDecision;
    }
    const rbac = authorizeRbac(await this.#snapshot(attributes), attributes);
    if (rbac.decision === "allow") return rbac;
    return { decision: "deny", reason: nodeDecision?.reason ?? "" };
  }

  async #list(group: string, resource: string, namespace?: string): Promise<StoredObject[]> {
    const info = resourceInfo(group, resource);
    const prefix = namespace === undefined ? resourcePrefix({ group, resource }) : namespacePrefix({ group, resource }, namespace);
    return (await this.#storages.cacherFor(info).list(prefix, { resourceVersion: "0" })).items;
  }

  async #snapshot(attributes: Attributes): Promise<RbacSnapshot> {
    const namespace = attributes.kind === "resource" ? attributes.namespace : "";
    const [clusterRoleBindings, clusterRoles, roleBindings, roles] = await Promise.all([
      this.#list(rbacGroup, "clusterrolebindings"),
      this.#list(rbacGroup, "clusterroles"),
      namespace === "" ? [] : this.#list(rbacGroup, "rolebindings", namespace),
      namespace === "" ? [] : this.#list(rbacGroup, "roles", namespace),
    ]);
    return {
      clusterRoleBindings: clusterRoleBindings as unknown as BindingObject[],
      clusterRoles: byName(clusterRoles),
      roleBindings: roleBindings as unknown as BindingObject[],
      roles: byName(roles),
    };
  }

  async #boundPods(node: string): Promise<PodReferences[]> {
    const info = resourceInfo("", "pods");
    const listed = await this.#storages.cacherFor(info).list(resourcePrefix({ group: "", resource: "pods" }), {
      resourceVersion: "0",
      filter: (attrs) => attrs.fields["spec.nodeName"] === node,
    });
    return listed.items as unknown as PodReferences[];
  }
}
