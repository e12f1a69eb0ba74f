import { describe, expect, it } from "vitest";
import { scenarioKinds } from "./faults.ts";
import { choosePlan, defaultSubset, fullPlan, parseScenarioList } from "./plan.ts";

describe("scenario plans", () => {
  it("runs every fault kind on 3 and 5 members in the full plan", () => {
    const full = fullPlan();
    expect(full).toHaveLength(scenarioKinds.length * 2);
    for (const kind of scenarioKinds) {
      expect(full).toContainEqual({ size: 3, kind });
      expect(full).toContainEqual({ size: 5, kind });
    }
  });

  it("runs every fault kind once in the default subset, on both cluster sizes", () => {
    expect(new Set(defaultSubset.map((spec) => spec.size))).toEqual(new Set([3, 5]));
    expect(defaultSubset.map((spec) => spec.kind).sort()).toEqual([...scenarioKinds].sort());
    const plan = choosePlan({ full: false, plant: "none", only: [] });
    expect(plan.scenarios).toEqual(defaultSubset);
    expect(plan.description).toContain("default subset");
  });

  it("runs the stale-read plant alone, on a 3-member partition scenario", () => {
    expect(choosePlan({ full: true, plant: "stale-reads", only: [] }).scenarios).toEqual([{ size: 3, kind: "partition" }]);
  });

  it("parses --only items and names a bad one", () => {
    expect(parseScenarioList(["3/kill-leader", "5/pause"])).toEqual([{ size: 3, kind: "kill-leader" }, { size: 5, kind: "pause" }]);
    expect(() => parseScenarioList(["3/explode"])).toThrow(/scenario "3\/explode"/);
    expect(() => parseScenarioList(["kill-leader"])).toThrow(/<size>\/<kind>/);
    expect(() => parseScenarioList(["1/membership"])).toThrow(/at least 3 members/);
  });
});
