import { describe, expect, it } from "vitest";
import { findResource, type ResourceInfo } from "../../libs/api/registry.ts";
import { isStatusError } from "../../libs/api/status-errors.ts";
import { checkTypeAndNamespace, generateName, prepareForCreate, prepareForUpdate, prepareStatusUpdate } from "./object-meta.ts";

function resource(group: string, version: string, name: string): ResourceInfo {
  const info = findResource(group, version, name);
  if (info === undefined) throw new Error(`no resource ${name}`);
  return info;
}
const configMaps = resource("", "v1", "configmaps");
const deployments = resource("apps", "v1", "deployments");
const now = "2026-01-02T03:04:05Z";

function statusReason(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    if (isStatusError(error)) return error.reason;
    throw error;
  }
  throw new Error("expected a StatusError");
}

describe("object metadata on create and update", () => {
  it("prepareForCreate() sets uid, creationTimestamp and generation 1, and drops a client's resourceVersion", () => {
    const created = prepareForCreate(configMaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "ns", resourceVersion: "9" } }, now);
    const metadata = created["metadata"] as Record<string, unknown>;
    expect(metadata).toMatchObject({ name: "a", namespace: "ns", creationTimestamp: now, generation: 1 });
    expect(metadata["uid"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(metadata).not.toHaveProperty("resourceVersion");
  });

  it("prepareForCreate() names from generateName and refuses an invalid name with 422", () => {
    const created = prepareForCreate(configMaps, { metadata: { generateName: "web-", namespace: "ns" } }, now);
    expect((created["metadata"] as { name: string }).name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(statusReason(() => prepareForCreate(configMaps, { metadata: { name: "Not_Valid", namespace: "ns" } }, now))).toBe("Invalid");
  });

  it("generateName() keeps the name within 63 characters", () => {
    expect(generateName("x".repeat(80), () => 0)).toBe(`${"x".repeat(58)}bbbbb`);
  });

  it("checkTypeAndNamespace() fills the namespace from the path and refuses a different one or another kind", () => {
    expect(checkTypeAndNamespace(configMaps, { metadata: { name: "a" } }, "ns")).toMatchObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { namespace: "ns" } });
    expect(statusReason(() => checkTypeAndNamespace(configMaps, { metadata: { name: "a", namespace: "other" } }, "ns"))).toBe("BadRequest");
    expect(statusReason(() => checkTypeAndNamespace(configMaps, { apiVersion: "v1", kind: "Secret", metadata: { name: "a" } }, "ns"))).toBe("BadRequest");
  });

  it("prepareForUpdate() bumps the generation for spec changes only and keeps status and identity", () => {
    const current = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "ns", uid: "u1", creationTimestamp: now, generation: 3, resourceVersion: "10" },
      spec: { replicas: 1, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "busybox" }] } } },
      status: { replicas: 1 },
    };
    const labelsOnly = prepareForUpdate(deployments, { ...current, metadata: { ...current.metadata, labels: { a: "b" }, uid: "forged" }, status: { replicas: 9 } }, current, true);
    expect(labelsOnly["metadata"]).toMatchObject({ generation: 3, uid: "u1", labels: { a: "b" } });
    expect(labelsOnly["status"]).toEqual({ replicas: 1 });
    const scaled = prepareForUpdate(deployments, { ...current, spec: { ...current.spec, replicas: 2 } }, current, true);
    expect((scaled["metadata"] as { generation: number }).generation).toBe(4);
  });

  it("prepareForCreate() refuses an invalid spec with upstream's field paths and stores nothing", () => {
    const invalid = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "ns" }, spec: { selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c" }] } } } };
    expect(() => prepareForCreate(deployments, invalid, now)).toThrow(/spec\.template\.spec\.containers\[0\]\.image: Required value/);
  });

  it("prepareStatusUpdate() takes only the status from the request", () => {
    const current = { metadata: { name: "web", resourceVersion: "5", labels: { a: "b" } }, spec: { replicas: 1 }, status: { replicas: 0 } };
    const next = { metadata: { name: "web", labels: { changed: "yes" } }, spec: { replicas: 7 }, status: { replicas: 1 } };
    expect(prepareStatusUpdate(next, current)).toEqual({ metadata: { name: "web", labels: { a: "b" } }, spec: { replicas: 1 }, status: { replicas: 1 } });
  });
});
