import { describe, expect, it } from "vitest";
import { parseRequestInfo, type ResourceRequest } from "./request-info.ts";

const parse = (method: string, url: string) => {
  const parsed = new URL(url, "https://localhost");
  return parseRequestInfo(method, parsed.pathname, parsed.searchParams);
};

describe("parseRequestInfo", () => {
  it("reads a namespaced object with a subresource", () => {
    expect(parse("GET", "/api/v1/namespaces/ns/pods/web-0/status")).toEqual({
      kind: "resource", verb: "get", group: "", version: "v1", namespace: "ns", resource: "pods", name: "web-0", subresource: "status",
    });
  });

  it("reads a named group's collection as list, and as watch with watch=true or the watch prefix", () => {
    expect((parse("GET", "/apis/apps/v1/namespaces/ns/deployments") as ResourceRequest).verb).toBe("list");
    expect((parse("GET", "/apis/apps/v1/namespaces/ns/deployments?watch=true") as ResourceRequest).verb).toBe("watch");
    expect(parse("GET", "/apis/apps/v1/watch/namespaces/ns/deployments")).toMatchObject({ verb: "watch", group: "apps", namespace: "ns", resource: "deployments" });
  });

  it("treats namespaces/<name> as the namespaces resource, not a scope", () => {
    expect(parse("DELETE", "/api/v1/namespaces/demo")).toMatchObject({ verb: "delete", resource: "namespaces", name: "demo", namespace: "demo" });
    expect(parse("PUT", "/api/v1/namespaces/demo/status")).toMatchObject({ verb: "update", resource: "namespaces", name: "demo", subresource: "status" });
    expect(parse("GET", "/api/v1/namespaces")).toMatchObject({ verb: "list", resource: "namespaces", name: "" });
  });

  it("maps methods to verbs: POST create, PUT update, PATCH patch, DELETE on a collection deletecollection", () => {
    expect((parse("POST", "/api/v1/namespaces/ns/configmaps") as ResourceRequest).verb).toBe("create");
    expect((parse("PUT", "/api/v1/namespaces/ns/configmaps/a") as ResourceRequest).verb).toBe("update");
    expect((parse("PATCH", "/api/v1/namespaces/ns/configmaps/a") as ResourceRequest).verb).toBe("patch");
    expect((parse("DELETE", "/api/v1/namespaces/ns/configmaps") as ResourceRequest).verb).toBe("deletecollection");
    expect((parse("GET", "/api/v1/nodes/n1") as ResourceRequest).namespace).toBe("");
  });

  it("leaves discovery, version, health and paths too deep as non-resource requests", () => {
    for (const path of ["/api", "/api/v1", "/apis", "/apis/apps", "/apis/apps/v1", "/version", "/healthz", "/openapi/v3/apis/apps/v1"]) {
      expect(parse("GET", path).kind, path).toBe("nonResource");
    }
    expect(parse("GET", "/api/v1/namespaces/ns/pods/a/status/extra").kind).toBe("nonResource");
    expect(parse("GET", "/api/v1/%E0%A4%A").kind).toBe("nonResource");
  });
});
