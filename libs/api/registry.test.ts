import { describe, expect, test } from "vitest";
import {
  apiGroupList,
  apiResourceList,
  apiVersionOf,
  apiVersions,
  findResource,
  findResourceByKind,
  findSubresource,
  listKindOf,
  preferredVersion,
  resolveResource,
  resourceForObject,
  resourcesInCategory,
  storageKey,
  storagePrefix,
} from "./registry.ts";

function resource(group: string, version: string, name: string) {
  const info = findResource(group, version, name);
  if (info === undefined) throw new Error(`no ${name}`);
  return info;
}

describe("discovery documents", () => {
  test("/api/v1 lists pods, its subresources and namespaces as upstream's discovery does", () => {
    const list = apiResourceList("", "v1");
    const byName = new Map(list?.resources.map((entry) => [entry.name, entry]));
    expect(list?.groupVersion).toBe("v1");
    expect(byName.get("pods")).toEqual({
      name: "pods",
      singularName: "pod",
      namespaced: true,
      kind: "Pod",
      verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
      shortNames: ["po"],
      categories: ["all"],
    });
    expect(byName.get("pods/eviction")).toEqual({ name: "pods/eviction", singularName: "", namespaced: true, group: "policy", version: "v1", kind: "Eviction", verbs: ["create"] });
    expect(byName.get("pods/log")).toEqual({ name: "pods/log", singularName: "", namespaced: true, kind: "Pod", verbs: ["get"] });
    expect(byName.get("namespaces")?.verbs).toEqual(["create", "delete", "get", "list", "patch", "update", "watch"]);
    expect(byName.get("bindings")).toEqual({ name: "bindings", singularName: "binding", namespaced: true, kind: "Binding", verbs: ["create"] });
    expect(byName.get("endpoints")?.singularName).toBe("endpoints");
    expect(byName.get("serviceaccounts/token")?.group).toBe("authentication.k8s.io");
  });

  test("resource lists are sorted by name, subresources right after their resource", () => {
    const names = apiResourceList("apps", "v1")?.resources.map((entry) => entry.name);
    expect(names).toEqual([
      "controllerrevisions",
      "daemonsets",
      "daemonsets/status",
      "deployments",
      "deployments/scale",
      "deployments/status",
      "replicasets",
      "replicasets/scale",
      "replicasets/status",
      "statefulsets",
      "statefulsets/scale",
      "statefulsets/status",
    ]);
    expect(apiResourceList("apps", "v1beta1")).toBeUndefined();
  });

  test("the short names and categories kubectl api-resources prints match upstream", () => {
    const printed = (group: string, version: string, name: string) => {
      const info = resource(group, version, name);
      return `${info.resource} ${info.shortNames.join(",")} ${apiVersionOf(info)} ${info.namespaced} ${info.kind} ${info.categories.join(",")}`;
    };
    expect([
      printed("", "v1", "services"),
      printed("", "v1", "persistentvolumes"),
      printed("", "v1", "limitranges"),
      printed("", "v1", "resourcequotas"),
      printed("apps", "v1", "deployments"),
      printed("batch", "v1", "cronjobs"),
      printed("batch", "v1", "jobs"),
      printed("autoscaling", "v2", "horizontalpodautoscalers"),
      printed("networking.k8s.io", "v1", "ingresses"),
      printed("policy", "v1", "poddisruptionbudgets"),
      printed("storage.k8s.io", "v1", "storageclasses"),
      printed("rbac.authorization.k8s.io", "v1", "clusterroles"),
    ]).toEqual([
      "services svc v1 true Service all",
      "persistentvolumes pv v1 false PersistentVolume ",
      "limitranges limits v1 true LimitRange ",
      "resourcequotas quota v1 true ResourceQuota ",
      "deployments deploy apps/v1 true Deployment all",
      "cronjobs cj batch/v1 true CronJob all",
      "jobs  batch/v1 true Job all",
      "horizontalpodautoscalers hpa autoscaling/v2 true HorizontalPodAutoscaler all",
      "ingresses ing networking.k8s.io/v1 true Ingress ",
      "poddisruptionbudgets pdb policy/v1 true PodDisruptionBudget ",
      "storageclasses sc storage.k8s.io/v1 false StorageClass ",
      "clusterroles  rbac.authorization.k8s.io/v1 false ClusterRole ",
    ]);
  });

  test("/apis lists the named groups with autoscaling preferring v2", () => {
    const groups = apiGroupList().groups;
    expect(groups.map((group) => group.name)).toEqual([
      "apps",
      "autoscaling",
      "batch",
      "networking.k8s.io",
      "policy",
      "rbac.authorization.k8s.io",
      "storage.k8s.io",
      "coordination.k8s.io",
      "discovery.k8s.io",
      "metrics.k8s.io",
    ]);
    expect(groups[1]).toEqual({
      name: "autoscaling",
      versions: [
        { groupVersion: "autoscaling/v2", version: "v2" },
        { groupVersion: "autoscaling/v1", version: "v1" },
      ],
      preferredVersion: { groupVersion: "autoscaling/v2", version: "v2" },
    });
    expect(apiVersions("10.0.0.1:6443")).toEqual({
      kind: "APIVersions",
      versions: ["v1"],
      serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "10.0.0.1:6443" }],
    });
  });
});

describe("lookups", () => {
  test("resolves every spelling kubectl accepts to the preferred version", () => {
    const resolved = ["po", "pod", "Pod", "pods", "deploy", "deploy.apps", "deployments.v1.apps", "hpa", "horizontalpodautoscalers.v1.autoscaling", "ing", "pods.v1", "nonsense"].map(
      (name) => {
        const info = resolveResource(name);
        return info === undefined ? "none" : `${info.resource}.${info.version}.${info.group}`;
      },
    );
    expect(resolved).toEqual([
      "pods.v1.",
      "pods.v1.",
      "pods.v1.",
      "pods.v1.",
      "deployments.v1.apps",
      "deployments.v1.apps",
      "deployments.v1.apps",
      "horizontalpodautoscalers.v2.autoscaling",
      "horizontalpodautoscalers.v1.autoscaling",
      "ingresses.v1.networking.k8s.io",
      "pods.v1.",
      "none",
    ]);
  });

  test("finds resources by kind and by an object's apiVersion", () => {
    expect(findResourceByKind("apps", "v1", "StatefulSet")?.resource).toBe("statefulsets");
    expect(resourceForObject("v1", "ConfigMap")?.resource).toBe("configmaps");
    expect(resourceForObject("a/b/c", "ConfigMap")).toBeUndefined();
    expect(listKindOf(resource("", "v1", "pods"))).toBe("PodList");
    expect(preferredVersion("autoscaling")).toBe("v2");
  });

  test("knows subresources and the 'all' category", () => {
    expect(findSubresource(resource("apps", "v1", "deployments"), "scale")).toMatchObject({ kind: "Scale", group: "autoscaling", version: "v1" });
    expect(findSubresource(resource("", "v1", "configmaps"), "status")).toBeUndefined();
    expect(resourcesInCategory("all").map((info) => info.resource)).toEqual([
      "pods",
      "replicationcontrollers",
      "services",
      "daemonsets",
      "deployments",
      "replicasets",
      "statefulsets",
      "horizontalpodautoscalers",
      "cronjobs",
      "jobs",
    ]);
  });
});

describe("storage keys", () => {
  test("use /registry/<group>/<resource>/<namespace>/<name> with core for the legacy group", () => {
    expect(storageKey(resource("", "v1", "pods"), "default", "web")).toBe("/registry/core/pods/default/web");
    expect(storageKey(resource("apps", "v1", "deployments"), "prod", "api")).toBe("/registry/apps/deployments/prod/api");
    expect(storageKey(resource("", "v1", "nodes"), "ignored", "n1")).toBe("/registry/core/nodes/n1");
  });

  test("prefixes end in a slash so one namespace never matches another", () => {
    expect(storagePrefix(resource("", "v1", "pods"), "default")).toBe("/registry/core/pods/default/");
    expect(storagePrefix(resource("", "v1", "pods"))).toBe("/registry/core/pods/");
    expect(storagePrefix(resource("autoscaling", "v1", "horizontalpodautoscalers"), "a")).toBe(
      storagePrefix(resource("autoscaling", "v2", "horizontalpodautoscalers"), "a"),
    );
  });
});
