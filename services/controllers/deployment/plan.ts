/**
 * The Deployment controller's sizing decisions as pure functions from ReplicaSets to new sizes:
 * scaling old ReplicaSets down during a rolling update (cleanupUnhealthyReplicas, then
 * scaleDownOldReplicaSetsForRollingUpdate) and proportional scaling of a Deployment resized in
 * the middle of a rollout (scale, getProportion, getReplicaSetFraction).
 */
import type { Deployment, ReplicaSet } from "../../../libs/api/index.ts";
import {
  activeReplicaSets,
  byCreation,
  isRollingUpdate,
  maxReplicasAnnotation,
  maxSurgeOf,
  maxUnavailableOf,
  replicasOf,
  specReplicas,
  totalSpecReplicas,
} from "./util.ts";

/** New sizes by ReplicaSet name; only the ones that change. */
export type SizePlan = Map<string, number>;

function withSize(rs: ReplicaSet, size: number): ReplicaSet {
  return { ...rs, spec: { ...rs.spec!, replicas: size } };
}

/**
 * reconcileOldReplicaSets: how far old ReplicaSets may shrink while at least
 * `replicas - maxUnavailable` pods stay available, counting the new ReplicaSet's unavailable pods
 * against the budget. Unhealthy old pods go first; then available ones, oldest ReplicaSet first.
 */
export function planOldScaleDown(deployment: Deployment, oldReplicaSets: readonly ReplicaSet[], newReplicaSet: ReplicaSet): SizePlan {
  const plan: SizePlan = new Map();
  const oldPods = totalSpecReplicas(oldReplicaSets);
  if (oldPods === 0) return plan;
  const allPods = oldPods + specReplicas(newReplicaSet);
  const minAvailable = replicasOf(deployment) - maxUnavailableOf(deployment);
  const newUnavailable = specReplicas(newReplicaSet) - (newReplicaSet.status?.availableReplicas ?? 0);
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return plan;
  let olds = [...oldReplicaSets].sort(byCreation);
  let cleaned = 0;
  olds = olds.map((rs) => {
    const replicas = specReplicas(rs);
    const available = rs.status?.availableReplicas ?? 0;
    if (cleaned >= maxScaledDown || replicas === 0 || replicas === available) return rs;
    const scaledDown = Math.min(maxScaledDown - cleaned, replicas - available);
    cleaned += scaledDown;
    plan.set(rs.metadata.name ?? "", replicas - scaledDown);
    return withSize(rs, replicas - scaledDown);
  });
  // scaleDownOldReplicaSetsForRollingUpdate: only available pods above the floor may go.
  const availablePods = [...olds, newReplicaSet].reduce((sum, rs) => sum + (rs.status?.availableReplicas ?? 0), 0);
  if (availablePods <= minAvailable) return plan;
  const totalScaleDown = availablePods - minAvailable;
  let scaledDownTotal = 0;
  for (const rs of olds) {
    if (scaledDownTotal >= totalScaleDown) break;
    const replicas = specReplicas(rs);
    if (replicas === 0) continue;
    const scaleDown = Math.min(replicas, totalScaleDown - scaledDownTotal);
    scaledDownTotal += scaleDown;
    plan.set(rs.metadata.name ?? "", replicas - scaleDown);
  }
  return plan;
}

/** FindActiveOrLatest: the one active ReplicaSet, or the newest when none is active. */
export function activeOrLatest(newReplicaSet: ReplicaSet | undefined, oldReplicaSets: readonly ReplicaSet[]): ReplicaSet | undefined {
  const newestFirst = [...oldReplicaSets].sort(byCreation).reverse();
  const active = activeReplicaSets(newReplicaSet === undefined ? newestFirst : [...newestFirst, newReplicaSet]);
  if (active.length === 0) return newReplicaSet ?? newestFirst[0];
  return active.length === 1 ? active[0] : undefined;
}

function annotatedMaxReplicas(rs: ReplicaSet): number | undefined {
  const text = rs.metadata.annotations?.[maxReplicasAnnotation];
  if (text === undefined) return undefined;
  const parsed = Number(text);
  return Number.isInteger(parsed) ? parsed : undefined;
}

// getReplicaSetFraction: the change this ReplicaSet's share of the Deployment would see.
function fraction(rs: ReplicaSet, deployment: Deployment): number {
  if (replicasOf(deployment) === 0) return -specReplicas(rs);
  const deploymentMax = replicasOf(deployment) + maxSurgeOf(deployment);
  const annotated = annotatedMaxReplicas(rs) ?? deployment.status?.replicas ?? 0;
  if (annotated === 0) return 0;
  const newSize = Math.round((specReplicas(rs) * deploymentMax) / annotated);
  return newSize - specReplicas(rs);
}

// ReplicaSetsBySizeNewer / BySizeOlder: the largest first, then by age.
function bySize(newerFirst: boolean): (left: ReplicaSet, right: ReplicaSet) => number {
  return (left, right) => {
    const size = specReplicas(right) - specReplicas(left);
    if (size !== 0) return size;
    return newerFirst ? byCreation(right, left) : byCreation(left, right);
  };
}

/**
 * Proportional scaling while a rolling update is under way: the replicas added or removed are
 * shared among the active ReplicaSets in proportion to their size; what rounding leaves over
 * goes to the largest. Returns new sizes, or an empty plan when nothing is to add.
 */
export function planProportionalScale(deployment: Deployment, replicaSets: readonly ReplicaSet[]): SizePlan {
  const plan: SizePlan = new Map();
  if (!isRollingUpdate(deployment)) return plan;
  const active = activeReplicaSets(replicaSets);
  const allowed = replicasOf(deployment) > 0 ? replicasOf(deployment) + maxSurgeOf(deployment) : 0;
  const toAdd = allowed - totalSpecReplicas(active);
  if (toAdd === 0) return plan;
  const ordered = [...active].sort(bySize(toAdd > 0));
  let added = 0;
  const sizes = new Map<string, number>();
  for (const rs of ordered) {
    let proportion = 0;
    if (specReplicas(rs) !== 0 && toAdd !== added) {
      const share = fraction(rs, deployment);
      proportion = toAdd > 0 ? Math.min(share, toAdd - added) : Math.max(share, toAdd - added);
    }
    sizes.set(rs.metadata.name ?? "", specReplicas(rs) + proportion);
    added += proportion;
  }
  const first = ordered[0];
  if (first !== undefined) {
    const name = first.metadata.name ?? "";
    sizes.set(name, Math.max(0, (sizes.get(name) ?? 0) + toAdd - added));
  }
  for (const rs of ordered) {
    const size = sizes.get(rs.metadata.name ?? "") ?? specReplicas(rs);
    if (size !== specReplicas(rs)) plan.set(rs.metadata.name ?? "", size);
  }
  return plan;
}
