/**
 * Which scenarios a run executes. The full plan is every fault kind on 3 and 5 members; the
 * default is a representative subset that fits about six minutes at 60 s per scenario: every
 * fault kind once, on one of the two cluster sizes (a scenario costs its 60 s plus about 6 s).
 * The stale-read plant runs alone: partitions that isolate one member, on 3 members.
 */
import { scenarioKinds, type ScenarioKind } from "./faults.ts";
import type { ScenarioSpec } from "./scenario.ts";

export const clusterSizes = [3, 5] as const;

export const defaultSubset: readonly ScenarioSpec[] = [
  { size: 3, kind: "kill-leader" },
  { size: 3, kind: "membership" },
  { size: 5, kind: "partition" },
  { size: 5, kind: "pause" },
  { size: 5, kind: "kill-random" },
];

export const plantScenario: ScenarioSpec = { size: 3, kind: "partition" };

export function fullPlan(): ScenarioSpec[] {
  return clusterSizes.flatMap((size) => scenarioKinds.map((kind) => ({ size, kind })));
}

/** Parses "3/kill-leader,5/pause" into specs, naming the bad item on error. */
export function parseScenarioList(items: readonly string[]): ScenarioSpec[] {
  return items.map((item) => {
    const match = /^(\d+)\/([a-z-]+)$/.exec(item);
    const size = Number(match?.[1]);
    const kind = match?.[2] as ScenarioKind | undefined;
    if (match === null || kind === undefined || !scenarioKinds.includes(kind)) {
      throw new Error(`scenario "${item}" is not <size>/<kind> with kind one of ${scenarioKinds.join(", ")}`);
    }
    if (!Number.isInteger(size) || size < 1 || size > 7) throw new Error(`scenario "${item}": size must be 1..7`);
    if (kind === "membership" && size < 3) throw new Error(`scenario "${item}": removing a member needs at least 3 members`);
    return { size, kind };
  });
}

export interface PlanChoice {
  readonly full: boolean;
  readonly plant: "none" | "stale-reads";
  readonly only: readonly string[];
}

export function choosePlan(choice: PlanChoice): { scenarios: ScenarioSpec[]; description: string } {
  if (choice.plant === "stale-reads") {
    return { scenarios: [plantScenario], description: "plant stale-reads: 3 members, partitions isolating one member, some gets served stale by it" };
  }
  if (choice.only.length > 0) return { scenarios: parseScenarioList(choice.only), description: "scenarios chosen with --only" };
  if (choice.full) return { scenarios: fullPlan(), description: "full plan (CHAOS_FULL=1): every fault kind on 3 and 5 members" };
  const all = fullPlan().length;
  return {
    scenarios: [...defaultSubset],
    description: `default subset: ${defaultSubset.length} of ${all} scenarios, every fault kind on one cluster size (CHAOS_FULL=1 runs both sizes of each)`,
  };
}
