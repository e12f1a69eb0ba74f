import { describe, expect, it } from "vitest";
import { openApiDocument, openApiIndex, swaggerV2Document } from "./openapi.ts";

type Document = {
  paths: Record<string, { patch?: { requestBody?: { content: Record<string, unknown> } } }>;
  components: { schemas: Record<string, { "x-kubernetes-group-version-kind"?: unknown; properties?: Record<string, unknown> }> };
};

describe("the OpenAPI documents", () => {
  it("advertise strategic merge patch on PATCH, so kubectl builds its patches from the schemas", () => {
    const document = openApiDocument("apps", "v1") as Document;
    const patch = document.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]?.patch;
    expect(Object.keys(patch?.requestBody?.content ?? {})).toContain("application/strategic-merge-patch+json");
  });

  it("carry each kind's schema, marked with its group, version and kind, and what it references", () => {
    const schemas = (openApiDocument("apps", "v1") as Document).components.schemas;
    expect(schemas["io.k8s.api.apps.v1.Deployment"]?.["x-kubernetes-group-version-kind"]).toEqual([{ group: "apps", version: "v1", kind: "Deployment" }]);
    expect(schemas["io.k8s.api.core.v1.Container"]?.properties).toHaveProperty("image");
    expect(schemas["io.k8s.api.core.v1.Container"]?.["x-kubernetes-group-version-kind"]).toBeUndefined();
    const core = (openApiDocument("", "v1") as Document).components.schemas;
    expect(core["io.k8s.api.core.v1.Pod"]?.["x-kubernetes-group-version-kind"]).toEqual([{ group: "", version: "v1", kind: "Pod" }]);
    expect(core).not.toHaveProperty("io.k8s.api.apps.v1.Deployment");
  });

  it("lists every group version with a hash that changes with the server's", () => {
    const first = openApiIndex("build-1") as { paths: Record<string, { serverRelativeURL: string }> };
    const second = openApiIndex("build-2") as { paths: Record<string, { serverRelativeURL: string }> };
    expect(first.paths["apis/apps/v1"]?.serverRelativeURL).toMatch(/^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}$/);
    expect(first.paths["api/v1"]?.serverRelativeURL).not.toBe(second.paths["api/v1"]?.serverRelativeURL);
    expect(Object.keys(first.paths)).toEqual(expect.arrayContaining(["api/v1", "apis/autoscaling/v2", "apis/autoscaling/v1", "apis/rbac.authorization.k8s.io/v1"]));
  });

  it("serves Swagger 2.0 definitions named like upstream's", () => {
    const swagger = swaggerV2Document() as { swagger: string; definitions: Record<string, { properties?: Record<string, unknown> }> };
    expect(swagger.swagger).toBe("2.0");
    expect(swagger.definitions["io.k8s.api.apps.v1.Deployment"]?.properties?.["spec"]).toEqual({ $ref: "#/definitions/io.k8s.api.apps.v1.DeploymentSpec" });
    expect(swagger.definitions).toHaveProperty("io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler");
    expect(swagger.definitions).toHaveProperty("io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler");
  });
});
