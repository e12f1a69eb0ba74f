import { describe, expect, it } from "vitest";
import { aggregatedDiscovery, wantsAggregatedDiscovery } from "./discovery.ts";
import { openApiDocument, openApiIndex } from "./openapi.ts";

describe("discovery and OpenAPI documents", () => {
  it("recognises kubectl's aggregated discovery Accept header, and not a plain JSON one", () => {
    const kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
    expect(wantsAggregatedDiscovery(kubectl)).toBe(true);
    expect(wantsAggregatedDiscovery("application/json, */*")).toBe(false);
    expect(wantsAggregatedDiscovery(undefined)).toBe(false);
  });

  it("lists the core group alone under /api and the named groups under /apis", () => {
    const legacy = aggregatedDiscovery(true) as { items: Array<{ metadata: { name: string }; versions: Array<{ resources: Array<{ resource: string; scope: string }> }> }> };
    expect(legacy.items.map((item) => item.metadata.name)).toEqual([""]);
    const resources = legacy.items[0]?.versions[0]?.resources ?? [];
    expect(resources.find((entry) => entry.resource === "namespaces")?.scope).toBe("Cluster");
    expect(resources.find((entry) => entry.resource === "pods")?.scope).toBe("Namespaced");
    const named = aggregatedDiscovery(false) as { items: Array<{ metadata: { name: string } }> };
    expect(named.items.map((item) => item.metadata.name)).toContain("apps");
    expect(named.items.map((item) => item.metadata.name)).not.toContain("");
  });

  it("puts the fieldValidation parameter and the kind on every PATCH in a group version's OpenAPI document", () => {
    expect(Object.keys((openApiIndex("h") as { paths: object }).paths)).toContain("apis/apps/v1");
    const document = openApiDocument("apps", "v1") as { paths: Record<string, { patch?: { parameters: Array<{ name: string; in: string }>; "x-kubernetes-group-version-kind": unknown } }> };
    const patch = document.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]?.patch;
    expect(patch?.["x-kubernetes-group-version-kind"]).toEqual({ group: "apps", version: "v1", kind: "Deployment" });
    expect(patch?.parameters).toContainEqual(expect.objectContaining({ name: "fieldValidation", in: "query" }));
    expect(openApiDocument("apps", "v9")).toBeUndefined();
  });
});
