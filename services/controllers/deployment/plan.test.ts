import { describe, expect, it } from "vitest";
import type { Deployment, ReplicaSet } from "../../../libs/api/index.ts";
import { planOldScaleDown, planProportionalScale } from "./plan.ts";
import { resolveFenceposts, scaledValue } from "./util.ts";

function deployment(replicas: number, maxSurge: number | string, maxUnavailable: number | string): Deployment {
  return {
    metadata: { name: "web", namespace: "default" },
    spec: { replicas, selector: {}, template: {}, strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge, maxUnavailable } } },
  };
}

function rs(name: string, replicas: number, available: number, createdSecond: number, maxReplicas?: number): ReplicaSet {
  const annotations = maxReplicas === undefined ? undefined : { "deployment.kubernetes.io/max-replicas": String(maxReplicas) };
  return {
    metadata: { name, creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, createdSecond)).toISOString(), ...(annotations === undefined ? {} : { annotations }) },
    spec: { replicas, selector: {} },
    status: { replicas, availableReplicas: available },
  };
}

describe("deployment sizing", () => {
  it("resolves percentages with surge rounded up and unavailability rounded down", () => {
    expect(scaledValue("25%", 10, true, 0)).toBe(3);
    expect(scaledValue("25%", 10, false, 0)).toBe(2);
    expect(resolveFenceposts(deployment(3, 0, 0))).toEqual({ maxSurge: 0, maxUnavailable: 1 });
  });

  it("scales old ReplicaSets down only as far as availability allows, unhealthy pods first", () => {
    // 10 wanted, maxUnavailable 2: 8 must stay available. The new one has 3 pods, 1 available.
    const plan = planOldScaleDown(deployment(10, 3, 2), [rs("old", 10, 9, 0)], rs("new", 3, 1, 10));
    // allPods 13 - minAvailable 8 - newUnavailable 2 = 3 may go: the unhealthy one, then 2 of the
    // available ones while 9 + 1 available stay above 8.
    expect(plan).toEqual(new Map([["old", 7]]));
  });

  it("shares a resize among ReplicaSets in proportion to their size, the remainder to the largest", () => {
    // 10 -> 15 with maxSurge 3, annotated at max 13: allowed 18, now 13 (8 + 5).
    const plan = planProportionalScale(deployment(15, 3, 2), [rs("old", 8, 8, 0, 13), rs("new", 5, 0, 10, 13)]);
    expect([...plan.entries()].sort()).toEqual([
      ["new", 7],
      ["old", 11],
    ]);
  });
});
