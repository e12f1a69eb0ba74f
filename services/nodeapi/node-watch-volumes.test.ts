import { describe, expect, it } from "vitest";
import { volumePinnedTo } from "./node-watch.ts";

function volume(nodeAffinity: unknown): Record<string, unknown> {
  return { apiVersion: "v1", kind: "PersistentVolume", metadata: { name: "pvc-1" }, spec: { hostPath: { path: "/x" }, nodeAffinity } };
}

describe("PersistentVolumes in the node stream", () => {
  it("a volume pinned to the node by kubernetes.io/hostname In goes to that node only", () => {
    const pinned = volume({ required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["node-a"] }] }] } });
    expect(volumePinnedTo(pinned, "node-a")).toBe(true);
    expect(volumePinnedTo(pinned, "node-b")).toBe(false);
  });

  it("a volume without node affinity, or pinned by another key or operator, goes to no node", () => {
    expect(volumePinnedTo(volume(undefined), "node-a")).toBe(false);
    expect(volumePinnedTo(volume({ required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["node-a"] }] }] } }), "node-a")).toBe(false);
    expect(volumePinnedTo(volume({ required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "NotIn", values: ["node-a"] }] }] } }), "node-a")).toBe(false);
  });
});
