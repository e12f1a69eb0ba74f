/**
 * RBAC evaluation as upstream's RBAC authorizer does it (k8s.io/kubernetes plugin/pkg/auth/
 * authorizer/rbac): a request is allowed when some ClusterRoleBinding, or some RoleBinding in the
 * request's namespace, names the user (by name, group or service account) and the role it refers
 * to has a rule covering the request. Nothing here reads the store: the caller hands in the
 * bindings and roles (from the watch caches), so every function is pure.
 */
import { allow, noOpinion, type Attributes, type Decision, type NonResourceAttributes, type ResourceAttributes, type UserIdentity } from "./attributes.ts";

export const rbacGroup = "rbac.authorization.k8s.io";
const all = "*";
const serviceAccountPrefix = "system:serviceaccount:";

export interface PolicyRule {
  readonly verbs: readonly string[];
  readonly apiGroups?: readonly string[] | undefined;
  readonly resources?: readonly string[] | undefined;
  readonly resourceNames?: readonly string[] | undefined;
  readonly nonResourceURLs?: readonly string[] | undefined;
}

export interface Subject {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string | undefined;
  readonly apiGroup?: string | undefined;
}

export interface RoleRef {
  readonly apiGroup: string;
  readonly kind: string;
  readonly name: string;
}

interface Metadata {
  readonly name?: string | undefined;
  readonly namespace?: string | undefined;
}

export interface RoleObject {
  readonly metadata: Metadata;
  readonly rules?: readonly PolicyRule[] | null | undefined;
}

export interface BindingObject {
  readonly metadata: Metadata;
  readonly subjects?: readonly Subject[] | null | undefined;
  readonly roleRef: RoleRef;
}

/** The RBAC objects a decision needs: every ClusterRoleBinding and ClusterRole, and the request namespace's RoleBindings and Roles. */
export interface RbacSnapshot {
  readonly clusterRoleBindings: readonly BindingObject[];
  readonly clusterRoles: ReadonlyMap<string, RoleObject>;
  /** RoleBindings of the request's namespace (empty at the cluster scope). */
  readonly roleBindings: readonly BindingObject[];
  /** Roles of the request's namespace, by name. */
  readonly roles: ReadonlyMap<string, RoleObject>;
}

/** Whether a binding's subject is this user; `bindingNamespace` fills a service account subject's missing namespace. */
export function subjectMatches(subject: Subject, user: UserIdentity, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case "User":
      return subject.name === user.name;
    case "Group":
      return user.groups.includes(subject.name);
    case "ServiceAccount": {
      const namespace = subject.namespace ?? bindingNamespace;
      if (namespace === "") return false;
      return user.name === `${serviceAccountPrefix}${namespace}:${subject.name}`;
    }
    default:
      return false;
  }
}

function includesOrAll(values: readonly string[] | undefined, wanted: string): boolean {
  return (values ?? []).some((value) => value === all || value === wanted);
}

/** upstream's ResourceMatches: `*`, the exact `resource/subresource`, or `*\/subresource`. */
export function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource === "" ? resource : `${resource}/${subresource}`;
  return (rule.resources ?? []).some((ruleResource) => {
    if (ruleResource === all || ruleResource === combined) return true;
    return subresource !== "" && ruleResource === `*/${subresource}`;
  });
}

/** upstream's NonResourceURLMatches: exact, `*`, or a prefix ending in `*`. */
export function nonResourceUrlMatches(rule: PolicyRule, path: string): boolean {
  return (rule.nonResourceURLs ?? []).some((pattern) => {
    if (pattern === all || pattern === path) return true;
    return pattern.endsWith(all) && path.startsWith(pattern.slice(0, -1));
  });
}

export function ruleAllowsResource(rule: PolicyRule, attributes: ResourceAttributes): boolean {
  if (!includesOrAll(rule.verbs, attributes.verb)) return false;
  if (!includesOrAll(rule.apiGroups, attributes.apiGroup)) return false;
  if (!resourceMatches(rule, attributes.resource, attributes.subresource)) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (attributes.name !== "" && names.includes(attributes.name));
}

export function ruleAllowsNonResource(rule: PolicyRule, attributes: NonResourceAttributes): boolean {
  return includesOrAll(rule.verbs, attributes.verb) && nonResourceUrlMatches(rule, attributes.path);
}

export function ruleAllows(rule: PolicyRule, attributes: Attributes): boolean {
  return attributes.kind === "resource" ? ruleAllowsResource(rule, attributes) : ruleAllowsNonResource(rule, attributes);
}

function roleOf(binding: BindingObject, snapshot: RbacSnapshot, namespaced: boolean): RoleObject | undefined {
  if (binding.roleRef.apiGroup !== rbacGroup) return undefined;
  if (binding.roleRef.kind === "ClusterRole") return snapshot.clusterRoles.get(binding.roleRef.name);
  // A ClusterRoleBinding cannot refer to a Role.
  if (binding.roleRef.kind === "Role" && namespaced) return snapshot.roles.get(binding.roleRef.name);
  return undefined;
}

function describeBinding(binding: BindingObject, namespaced: boolean): string {
  const kind = namespaced ? `RoleBinding "${binding.metadata.name ?? ""}" of ${binding.roleRef.kind} "${binding.roleRef.name}"` : `ClusterRoleBinding "${binding.metadata.name ?? ""}" of ClusterRole "${binding.roleRef.name}"`;
  return `RBAC: allowed by ${kind}`;
}

function bindingAllows(binding: BindingObject, snapshot: RbacSnapshot, attributes: Attributes, namespaced: boolean): boolean {
  const bindingNamespace = namespaced ? (binding.metadata.namespace ?? "") : "";
  if (!(binding.subjects ?? []).some((subject) => subjectMatches(subject, attributes.user, bindingNamespace))) return false;
  const role = roleOf(binding, snapshot, namespaced);
  return (role?.rules ?? []).some((rule) => ruleAllows(rule, attributes));
}

/**
 * The RBAC decision: allow with the binding that allowed it, or no opinion (RBAC never denies;
 * the request is refused when no authorizer allows it).
 */
export function authorizeRbac(snapshot: RbacSnapshot, attributes: Attributes): Decision {
  for (const binding of snapshot.clusterRoleBindings) {
    if (bindingAllows(binding, snapshot, attributes, false)) return allow(describeBinding(binding, false));
  }
  if (attributes.kind === "resource" && attributes.namespace !== "") {
    for (const binding of snapshot.roleBindings) {
      if ((binding.metadata.namespace ?? "") !== attributes.namespace) continue;
      if (bindingAllows(binding, snapshot, attributes, true)) return allow(describeBinding(binding, true));
    }
  }
  return noOpinion();
}
