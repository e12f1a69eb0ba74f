import { describe, expect, it } from "vitest";
import { findResource } from "../../libs/api/registry.ts";
import { StatusError } from "../../libs/api/status-errors.ts";
import type { HandlerContext } from "./context.ts";
import { checkAcceptsNewContent, checkDeletable, keepSpecFinalizers, namespaceHoldsOn } from "./namespace-lifecycle.ts";

function contextFor(resource: string, namespace: string, subresource = ""): HandlerContext {
  const info = findResource("", "v1", resource);
  if (info === undefined) throw new Error(`no ${resource}`);
  return { info, request: { namespace, name: "", subresource } } as unknown as HandlerContext;
}

function thrown(work: () => void): StatusError {
  try {
    work();
  } catch (error) {
    if (error instanceof StatusError) return error;
    throw error;
  }
  throw new Error("expected a StatusError");
}

const terminating = { metadata: { name: "team", deletionTimestamp: "2026-11-22T07:00:00Z" }, spec: { finalizers: ["kubernetes"] }, status: { phase: "Terminating" } };

describe("namespace lifecycle", () => {
  it("refuses a create in a Terminating namespace with upstream's 403 and NamespaceTerminating cause", () => {
    const error = thrown(() => checkAcceptsNewContent(contextFor("configmaps", "team"), terminating, "late"));
    expect(error.status.code).toBe(403);
    expect(error.status.message).toBe('configmaps "late" is forbidden: unable to create new content in namespace team because it is being terminated');
    expect(error.status.details?.causes).toEqual([{ reason: "NamespaceTerminating", message: "namespace team is being terminated", field: "metadata.namespace" }]);
    expect(() => checkAcceptsNewContent(contextFor("configmaps", "team"), { metadata: { name: "team" }, status: { phase: "Active" } }, "late")).not.toThrow();
  });

  it("never deletes the built-in namespaces", () => {
    for (const name of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
      expect(thrown(() => checkDeletable(name)).status.message).toBe(`namespaces "${name}" is forbidden: this namespace may not be deleted`);
    }
    expect(() => checkDeletable("team")).not.toThrow();
  });

  it("keeps spec.finalizers on a main-resource update, not on finalize", () => {
    const current = { metadata: { name: "team" }, spec: { finalizers: ["kubernetes"] } };
    const next = { metadata: { name: "team", labels: { a: "b" } }, spec: { finalizers: [] } };
    expect(keepSpecFinalizers(contextFor("namespaces", ""), next, current)["spec"]).toEqual({ finalizers: ["kubernetes"] });
    expect(keepSpecFinalizers(contextFor("namespaces", "", "finalize"), next, current)).toBe(next);
    expect(keepSpecFinalizers(contextFor("configmaps", "team"), next, current)).toBe(next);
  });

  it("a namespace holds on while spec.finalizers has a token", () => {
    expect(namespaceHoldsOn(terminating)).toBe(true);
    expect(namespaceHoldsOn({ ...terminating, spec: { finalizers: [] } })).toBe(false);
    expect(namespaceHoldsOn({ metadata: { name: "x" } })).toBe(false);
  });
});
