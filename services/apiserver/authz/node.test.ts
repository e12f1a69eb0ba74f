import { describe, expect, it } from "vitest";
import { fieldSelectorTerms, type ResourceAttributes } from "./attributes.ts";
import { authorizeNode, nodeNameOf, podReferences, type PodReferences } from "./node.ts";

const node1 = { name: "system:node:n1", groups: ["system:nodes", "system:authenticated"] };

function request(overrides: Partial<ResourceAttributes>): ResourceAttributes {
  return { kind: "resource", user: node1, verb: "get", apiGroup: "", resource: "pods", subresource: "", namespace: "default", name: "", fieldSelector: {}, ...overrides };
}

const boundPod: PodReferences = {
  metadata: { name: "web", namespace: "default" },
  spec: {
    nodeName: "n1",
    serviceAccountName: "web-sa",
    volumes: [{ name: "v", secret: { secretName: "tls" } }, { name: "c", persistentVolumeClaim: { claimName: "data" } }, { name: "p", projected: { sources: [{ configMap: { name: "projected-cm" } }] } }, { name: "scratch", ephemeral: { volumeClaimTemplate: { spec: {} } } }],
    containers: [{ name: "c", env: [{ name: "A", valueFrom: { configMapKeyRef: { name: "settings", key: "a" } } }], envFrom: [{ secretRef: { name: "env-secret" } }] }],
    imagePullSecrets: [{ name: "registry" }],
  },
};

describe("node authorizer", () => {
  it("knows a node only by the system:node: prefix and the system:nodes group", () => {
    expect(nodeNameOf(node1)).toBe("n1");
    expect(nodeNameOf({ name: "system:node:n1", groups: ["system:authenticated"] })).toBeUndefined();
    expect(authorizeNode(request({ user: { name: "alice", groups: [] }, name: "web" }), [boundPod]).decision).toBe("noOpinion");
  });

  it("lets a node manage its own Node and Lease but not another's", () => {
    expect(authorizeNode(request({ resource: "nodes", namespace: "", name: "n1", verb: "update" }), []).decision).toBe("allow");
    expect(authorizeNode(request({ resource: "nodes", namespace: "", name: "n1", verb: "patch", subresource: "status" }), []).decision).toBe("allow");
    expect(authorizeNode(request({ resource: "nodes", namespace: "", name: "n2", verb: "update" }), []).decision).toBe("noOpinion");
    expect(authorizeNode(request({ resource: "nodes", namespace: "", verb: "list" }), []).decision).toBe("noOpinion");
    expect(authorizeNode(request({ resource: "nodes", namespace: "", verb: "watch", fieldSelector: { "metadata.name": "n1" } }), []).decision).toBe("allow");
    const lease = { apiGroup: "coordination.k8s.io", resource: "leases", namespace: "kube-node-lease" };
    expect(authorizeNode(request({ ...lease, name: "n1", verb: "update" }), []).decision).toBe("allow");
    expect(authorizeNode(request({ ...lease, name: "n2", verb: "update" }), []).decision).toBe("noOpinion");
    expect(authorizeNode(request({ ...lease, namespace: "default", name: "n1", verb: "update" }), []).decision).toBe("noOpinion");
  });

  it("lets a node read and report on pods bound to it only", () => {
    expect(authorizeNode(request({ name: "web" }), [boundPod]).decision).toBe("allow");
    expect(authorizeNode(request({ name: "web", subresource: "status", verb: "patch" }), [boundPod]).decision).toBe("allow");
    const refused = authorizeNode(request({ name: "other" }), [boundPod]);
    expect(refused).toEqual({ decision: "noOpinion", reason: "no relationship found between node 'n1' and this object" });
    expect(authorizeNode(request({ verb: "list" }), [boundPod]).decision).toBe("noOpinion");
    expect(authorizeNode(request({ verb: "watch", namespace: "", fieldSelector: fieldSelectorTerms("spec.nodeName=n1") }), []).decision).toBe("allow");
    expect(authorizeNode(request({ verb: "watch", namespace: "", fieldSelector: fieldSelectorTerms("spec.nodeName!=n1") }), []).decision).toBe("noOpinion");
  });

  it("lets a node get the secrets, configmaps and claims its pods reference, and nothing else", () => {
    for (const [resource, name] of [["secrets", "tls"], ["secrets", "env-secret"], ["secrets", "registry"], ["configmaps", "settings"], ["configmaps", "projected-cm"], ["persistentvolumeclaims", "data"]] as const) {
      expect(authorizeNode(request({ resource, name }), [boundPod]).decision, `${resource}/${name}`).toBe("allow");
    }
    expect(authorizeNode(request({ resource: "secrets", name: "admin-token" }), [boundPod]).decision).toBe("noOpinion");
    expect(authorizeNode(request({ resource: "secrets", name: "tls", namespace: "other" }), [boundPod]).decision).toBe("noOpinion");
    expect(authorizeNode(request({ resource: "secrets", name: "tls", verb: "update" }), [boundPod]).decision).toBe("noOpinion");
    expect(authorizeNode(request({ resource: "secrets", verb: "list" }), [boundPod]).decision).toBe("noOpinion");
    expect(authorizeNode(request({ resource: "serviceaccounts", name: "web-sa", subresource: "token", verb: "create" }), [boundPod]).decision).toBe("allow");
  });

  it("lets a node create events and read services", () => {
    expect(authorizeNode(request({ resource: "events", verb: "create" }), []).decision).toBe("allow");
    expect(authorizeNode(request({ resource: "services", verb: "watch", namespace: "" }), []).decision).toBe("allow");
    expect(authorizeNode(request({ resource: "services", verb: "delete", name: "x" }), []).decision).toBe("noOpinion");
    expect(authorizeNode(request({ apiGroup: "apps", resource: "deployments", verb: "list" }), []).decision).toBe("noOpinion");
  });

  it("reads every kind of reference a pod makes", () => {
    const references = podReferences(boundPod);
    expect([...references.secrets].sort()).toEqual(["env-secret", "registry", "tls"]);
    expect([...references.configmaps].sort()).toEqual(["projected-cm", "settings"]);
    expect([...references.persistentvolumeclaims]).toEqual(["data", "web-scratch"]);
    expect([...references.serviceaccounts]).toEqual(["web-sa"]);
  });

  it("lets a node read Ingresses, IngressClasses and exactly the TLS secrets Ingresses name in their namespace", () => {
    const networking = { apiGroup: "networking.k8s.io" };
    expect(authorizeNode(request({ ...networking, resource: "ingresses", namespace: "", verb: "watch" }), []).decision).toBe("allow");
    expect(authorizeNode(request({ ...networking, resource: "ingressclasses", namespace: "", verb: "list" }), []).decision).toBe("allow");
    expect(authorizeNode(request({ ...networking, resource: "ingresses", name: "front", verb: "update" }), []).decision).toBe("noOpinion");
    expect(authorizeNode(request({ ...networking, resource: "ingresses", name: "front", verb: "update", subresource: "status" }), []).decision).toBe("noOpinion");
    const ingresses = [{ metadata: { namespace: "shop" }, spec: { tls: [{ hosts: ["shop.test"], secretName: "shop-cert" }] } }];
    const secret = (namespace: string, name: string, verb = "get"): ResourceAttributes => request({ resource: "secrets", namespace, name, verb });
    expect(authorizeNode(secret("shop", "shop-cert"), [], ingresses).decision).toBe("allow");
    expect(authorizeNode(secret("shop", "other"), [], ingresses).decision).toBe("noOpinion");
    expect(authorizeNode(secret("default", "shop-cert"), [], ingresses).decision).toBe("noOpinion");
    expect(authorizeNode(secret("shop", "shop-cert", "update"), [], ingresses).decision).toBe("noOpinion");
    expect(authorizeNode(request({ resource: "secrets", namespace: "shop", verb: "list" }), [], ingresses).decision).toBe("noOpinion");
  });
});
