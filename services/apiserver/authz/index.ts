/** Authorization: RBAC and the node authorizer as pure functions over objects the caller reads. */
export type { Attributes, Decision, NonResourceAttributes, ResourceAttributes, UserIdentity } from "./attributes.ts";
export { allow, fieldSelectorTerms, noOpinion } from "./attributes.ts";
export type { BindingObject, PolicyRule, RbacSnapshot, RoleObject, RoleRef, Subject } from "./rbac.ts";
export { authorizeRbac, nonResourceUrlMatches, rbacGroup, resourceMatches, ruleAllows, subjectMatches } from "./rbac.ts";
export type { BootstrapClusterRole, BootstrapClusterRoleBinding } from "./bootstrap.ts";
export { bootstrapClusterRoleBindings, bootstrapClusterRoles } from "./bootstrap.ts";
export type { PodReferences } from "./node.ts";
export { authorizeNode, needsBoundPods, nodeLeaseNamespace, nodeNameOf, nodesGroup, podReferences } from "./node.ts";
