import { describe, expect, test } from "vitest";
import { scaleDownRules, scaleUpRules, ScalingHistory, type NormalizeInput } from "./behavior.ts";

const startMs = Date.UTC(2026, 0, 1);

function input(currentReplicas: number, desiredReplicas: number, nowMs: number, extra: Partial<NormalizeInput> = {}): NormalizeInput {
  return { key: "default/web", currentReplicas, desiredReplicas, minReplicas: 1, maxReplicas: 100, scaleUp: scaleUpRules(undefined), scaleDown: scaleDownRules(undefined, 300), nowMs, ...extra };
}

describe("scaling behavior", () => {
  test("default scale-up allows the larger of +4 pods and +100 % per 15 s", () => {
    const history = new ScalingHistory();
    expect(history.normalize(input(2, 20, startMs)).replicas).toBe(6);
    expect(history.normalize(input(10, 50, startMs)).replicas).toBe(20);
    expect(history.normalize(input(10, 50, startMs)).limited).toEqual({ status: true, reason: "ScaleUpLimit", message: "the desired replica count is increasing faster than the maximum scale rate" });
  });

  test("replicas added in a policy's period count against it", () => {
    const history = new ScalingHistory();
    const rules = { scaleUp: scaleUpRules({ policies: [{ type: "Pods", value: 2, periodSeconds: 60 }] }), scaleDown: scaleDownRules(undefined, 300) };
    history.recordScale("default/web", 2, 4, rules, startMs);
    expect(history.normalize(input(4, 10, startMs + 30_000, rules)).replicas).toBe(4);
    expect(history.normalize(input(4, 10, startMs + 61_000, rules)).replicas).toBe(6);
  });

  test("scale-down keeps the highest recommendation of the window", () => {
    const history = new ScalingHistory();
    history.recordInitial("default/web", 8, startMs);
    expect(history.normalize(input(8, 3, startMs + 1_000)).replicas).toBe(8);
    expect(history.normalize(input(8, 5, startMs + 200_000)).replicas).toBe(8);
    // The initial 8 has left the 300 s window; 5 (at 200 s) is the highest left.
    expect(history.normalize(input(8, 2, startMs + 301_000)).replicas).toBe(5);
  });

  test("a scale-up window keeps the lowest recent recommendation", () => {
    const history = new ScalingHistory();
    const rules = { scaleUp: scaleUpRules({ stabilizationWindowSeconds: 60 }) };
    history.recordInitial("default/web", 2, startMs);
    const first = history.normalize(input(2, 6, startMs + 1_000, rules));
    expect(first.replicas).toBe(2);
    expect(first.stabilized.reason).toBe("ScaleUpStabilized");
    expect(history.normalize(input(2, 6, startMs + 62_000, rules)).replicas).toBe(6);
  });

  test("Disabled stops changes in that direction; bounds say TooFewReplicas", () => {
    const history = new ScalingHistory();
    const disabled = { scaleDown: scaleDownRules({ stabilizationWindowSeconds: 0, selectPolicy: "Disabled" }, 300) };
    expect(history.normalize(input(5, 1, startMs, disabled)).replicas).toBe(5);
    const bounded = history.normalize(input(5, 1, startMs, { scaleDown: scaleDownRules({ stabilizationWindowSeconds: 0 }, 300), minReplicas: 3 }));
    expect(bounded.replicas).toBe(3);
    expect(bounded.limited.reason).toBe("TooFewReplicas");
  });
});
