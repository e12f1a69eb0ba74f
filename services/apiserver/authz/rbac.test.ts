import { describe, expect, it } from "vitest";
import type { NonResourceAttributes, ResourceAttributes, UserIdentity } from "./attributes.ts";
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from "./bootstrap.ts";
import { authorizeRbac, resourceMatches, ruleAllows, subjectMatches, type BindingObject, type RbacSnapshot, type RoleObject } from "./rbac.ts";

const saUser: UserIdentity = { name: "system:serviceaccount:team:robot", groups: ["system:serviceaccounts", "system:serviceaccounts:team", "system:authenticated"] };

function resource(overrides: Partial<ResourceAttributes>): ResourceAttributes {
  return { kind: "resource", user: saUser, verb: "get", apiGroup: "", resource: "pods", subresource: "", namespace: "team", name: "", fieldSelector: {}, ...overrides };
}

function nonResource(path: string, user: UserIdentity = saUser): NonResourceAttributes {
  return { kind: "nonResource", user, verb: "get", path };
}

function snapshot(parts: Partial<RbacSnapshot>): RbacSnapshot {
  return {
    clusterRoleBindings: [...bootstrapClusterRoleBindings, ...(parts.clusterRoleBindings ?? [])],
    clusterRoles: new Map([...bootstrapClusterRoles.map((role) => [role.metadata.name, role] as const), ...(parts.clusterRoles ?? new Map<string, RoleObject>())]),
    roleBindings: parts.roleBindings ?? [],
    roles: parts.roles ?? new Map(),
  };
}

const podReader: RoleObject = { metadata: { name: "pod-reader", namespace: "team" }, rules: [{ apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get", "list"] }] };

function roleBinding(name: string, roleKind: "Role" | "ClusterRole", roleName: string, subjects: BindingObject["subjects"], namespace = "team"): BindingObject {
  return { metadata: { name, namespace }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: roleKind, name: roleName }, subjects };
}

describe("RBAC rules", () => {
  it("match a subresource only by its full name or */subresource", () => {
    expect(resourceMatches({ verbs: ["get"], resources: ["pods/log"] }, "pods", "log")).toBe(true);
    expect(resourceMatches({ verbs: ["get"], resources: ["pods"] }, "pods", "log")).toBe(false);
    expect(resourceMatches({ verbs: ["get"], resources: ["*/log"] }, "pods", "log")).toBe(true);
    expect(resourceMatches({ verbs: ["get"], resources: ["*/log"] }, "pods", "")).toBe(false);
    expect(resourceMatches({ verbs: ["get"], resources: ["*"] }, "pods", "exec")).toBe(true);
  });

  it("with resourceNames allow only the named objects, never a list", () => {
    const rule = { verbs: ["get", "list"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["settings"] };
    expect(ruleAllows(rule, resource({ resource: "configmaps", name: "settings" }))).toBe(true);
    expect(ruleAllows(rule, resource({ resource: "configmaps", name: "other" }))).toBe(false);
    expect(ruleAllows(rule, resource({ resource: "configmaps", verb: "list" }))).toBe(false);
  });

  it("match non-resource URLs exactly or by a trailing-* prefix", () => {
    const rule = { verbs: ["get"], nonResourceURLs: ["/healthz", "/apis/*"] };
    expect(ruleAllows(rule, nonResource("/healthz"))).toBe(true);
    expect(ruleAllows(rule, nonResource("/healthz/etcd"))).toBe(false);
    expect(ruleAllows(rule, nonResource("/apis/apps/v1"))).toBe(true);
  });

  it("check the API group", () => {
    const rule = { verbs: ["*"], apiGroups: ["apps"], resources: ["deployments"] };
    expect(ruleAllows(rule, resource({ apiGroup: "apps", resource: "deployments", verb: "delete" }))).toBe(true);
    expect(ruleAllows(rule, resource({ apiGroup: "extensions", resource: "deployments" }))).toBe(false);
  });
});

describe("RBAC subjects", () => {
  it("match a service account by namespace and name, defaulting to the binding's namespace", () => {
    expect(subjectMatches({ kind: "ServiceAccount", name: "robot" }, saUser, "team")).toBe(true);
    expect(subjectMatches({ kind: "ServiceAccount", name: "robot" }, saUser, "other")).toBe(false);
    expect(subjectMatches({ kind: "ServiceAccount", name: "robot", namespace: "team" }, saUser, "")).toBe(true);
    expect(subjectMatches({ kind: "ServiceAccount", name: "robot" }, saUser, "")).toBe(false);
  });

  it("match users by name and groups by membership", () => {
    expect(subjectMatches({ kind: "User", name: "alice" }, { name: "alice", groups: [] }, "")).toBe(true);
    expect(subjectMatches({ kind: "Group", name: "system:serviceaccounts:team" }, saUser, "")).toBe(true);
    expect(subjectMatches({ kind: "Group", name: "system:masters" }, saUser, "")).toBe(false);
  });
});

describe("authorizeRbac()", () => {
  it("gives a service account without bindings only discovery", () => {
    const policy = snapshot({});
    expect(authorizeRbac(policy, resource({ verb: "list" })).decision).toBe("noOpinion");
    expect(authorizeRbac(policy, nonResource("/api/v1")).decision).toBe("allow");
    expect(authorizeRbac(policy, nonResource("/metrics")).decision).toBe("noOpinion");
  });

  it("allows what a RoleBinding's Role grants, in its namespace only", () => {
    const policy = snapshot({ roleBindings: [roleBinding("read-pods", "Role", "pod-reader", [{ kind: "ServiceAccount", name: "robot" }])], roles: new Map([["pod-reader", podReader]]) });
    expect(authorizeRbac(policy, resource({ verb: "list" })).decision).toBe("allow");
    expect(authorizeRbac(policy, resource({ verb: "get", subresource: "log", name: "p" })).decision).toBe("allow");
    expect(authorizeRbac(policy, resource({ verb: "delete", name: "p" })).decision).toBe("noOpinion");
    expect(authorizeRbac(policy, resource({ verb: "list", namespace: "other" })).decision).toBe("noOpinion");
  });

  it("lets a RoleBinding grant a ClusterRole within its namespace", () => {
    const policy = snapshot({ roleBindings: [roleBinding("viewers", "ClusterRole", "view", [{ kind: "Group", name: "system:serviceaccounts:team" }])] });
    expect(authorizeRbac(policy, resource({ verb: "watch", apiGroup: "apps", resource: "deployments" })).decision).toBe("allow");
    expect(authorizeRbac(policy, resource({ verb: "get", resource: "secrets", name: "s" })).decision).toBe("noOpinion");
    expect(authorizeRbac(policy, resource({ verb: "list", resource: "namespaces", namespace: "" })).decision).toBe("noOpinion");
  });

  it("never lets a ClusterRoleBinding refer to a Role", () => {
    const binding: BindingObject = { metadata: { name: "odd" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "pod-reader" }, subjects: [{ kind: "ServiceAccount", name: "robot", namespace: "team" }] };
    const policy = snapshot({ clusterRoleBindings: [binding], roles: new Map([["pod-reader", podReader]]) });
    expect(authorizeRbac(policy, resource({ verb: "list" })).decision).toBe("noOpinion");
  });

  it("lets system:masters do everything through cluster-admin", () => {
    const admin = { name: "admin", groups: ["system:masters", "system:authenticated"] };
    const policy = snapshot({});
    expect(authorizeRbac(policy, resource({ user: admin, verb: "deletecollection", apiGroup: "apps", resource: "deployments" })).decision).toBe("allow");
    expect(authorizeRbac(policy, nonResource("/metrics", admin)).decision).toBe("allow");
  });

  it("ignores a RoleBinding of another namespace", () => {
    const policy = snapshot({ roleBindings: [roleBinding("read-pods", "ClusterRole", "view", [{ kind: "ServiceAccount", name: "robot", namespace: "team" }], "elsewhere")] });
    expect(authorizeRbac(policy, resource({ verb: "list" })).decision).toBe("noOpinion");
  });
});
