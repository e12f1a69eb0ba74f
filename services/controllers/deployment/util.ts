/**
 * Pure pieces of the Deployment controller (pkg/controller/deployment/util): maxSurge and
 * maxUnavailable resolution, the pod-template-hash, template equality ignoring the hash, revision
 * and replica annotations, replica counts over sets of ReplicaSets, and which ReplicaSet is new.
 */
import { deepEqual, parseTime } from "../../../libs/api/index.ts";
import type { Deployment, IntOrString, JsonValue, PodTemplateSpec, ReplicaSet } from "../../../libs/api/index.ts";

export const podTemplateHashLabel = "pod-template-hash";
export const revisionAnnotation = "deployment.kubernetes.io/revision";
export const revisionHistoryAnnotation = "deployment.kubernetes.io/revision-history";
export const desiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas";
export const maxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";
export const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";
export const rollbackToAnnotation = "deprecated.deployment.rollback.to";
/** Upstream's default revisionHistoryLimit for apps/v1. */
export const revisionHistoryLimitDefault = 10;
export const progressDeadlineSecondsDefault = 600;

/** Annotations a Deployment does not copy onto its ReplicaSets (skipCopyAnnotation). */
const annotationsNotCopied = new Set([lastAppliedAnnotation, revisionAnnotation, revisionHistoryAnnotation, desiredReplicasAnnotation, maxReplicasAnnotation, rollbackToAnnotation]);

export function replicasOf(deployment: Deployment): number {
  return deployment.spec?.replicas ?? 1;
}

export function isRollingUpdate(deployment: Deployment): boolean {
  return (deployment.spec?.strategy?.type ?? "RollingUpdate") === "RollingUpdate";
}

/** intstr.GetScaledValueFromIntOrPercent: `25%` of total, rounded up or down; integers as they are. */
export function scaledValue(value: IntOrString | undefined, total: number, roundUp: boolean, fallback: IntOrString): number {
  const resolved = value ?? fallback;
  if (typeof resolved === "number") return resolved;
  const match = /^(\d+)%$/.exec(resolved);
  if (match === null) {
    const parsed = Number(resolved);
    return Number.isInteger(parsed) ? parsed : 0;
  }
  const exact = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** ResolveFenceposts: surge rounds up, unavailability down, and both zero means one unavailable. */
export function resolveFenceposts(deployment: Deployment): { maxSurge: number; maxUnavailable: number } {
  const rolling = deployment.spec?.strategy?.rollingUpdate;
  const desired = replicasOf(deployment);
  const maxSurge = scaledValue(rolling?.maxSurge, desired, true, "25%");
  let maxUnavailable = scaledValue(rolling?.maxUnavailable, desired, false, "25%");
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

export function maxSurgeOf(deployment: Deployment): number {
  return isRollingUpdate(deployment) ? resolveFenceposts(deployment).maxSurge : 0;
}

export function maxUnavailableOf(deployment: Deployment): number {
  const desired = replicasOf(deployment);
  if (!isRollingUpdate(deployment) || desired === 0) return 0;
  return Math.min(resolveFenceposts(deployment).maxUnavailable, desired);
}

// Canonical JSON (sorted keys) so that the hash does not depend on key order.
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, member]) => member !== undefined);
    entries.sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
    return `{${entries.map(([key, member]) => `${JSON.stringify(key)}:${canonical(member)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** rand.SafeEncodeString's alphabet: no vowels, no look-alike characters. */
const safeAlphabet = "bcdfghjklmnpqrstvwxz2456789";

/**
 * The pod-template-hash (controller.ComputeHash): FNV-32a over the template, then over the
 * collision count when there is one, printed in decimal and each digit mapped into the safe
 * alphabet. Upstream hashes Go's printed struct, so the values differ from upstream's; the
 * shape (up to 10 characters from the same alphabet) is the same.
 */
export function computeHash(template: PodTemplateSpec | undefined, collisionCount: number | undefined): string {
  let text = canonical(template ?? {});
  if (collisionCount !== undefined) text += `#${collisionCount}`;
  const decimal = String(fnv32a(text));
  return [...decimal].map((digit) => safeAlphabet.charAt(digit.charCodeAt(0) % safeAlphabet.length)).join("");
}

function withoutHash(template: PodTemplateSpec | undefined): JsonValue {
  const copy = structuredClone(template ?? {});
  if (copy.metadata?.labels !== undefined) {
    delete copy.metadata.labels[podTemplateHashLabel];
    if (Object.keys(copy.metadata.labels).length === 0) delete copy.metadata.labels;
  }
  if (copy.metadata !== undefined && Object.keys(copy.metadata).length === 0) delete copy.metadata;
  return JSON.parse(canonical(copy)) as JsonValue;
}

/** EqualIgnoreHash: the templates are equal once the pod-template-hash label is left out. */
export function equalIgnoreHash(left: PodTemplateSpec | undefined, right: PodTemplateSpec | undefined): boolean {
  return deepEqual(withoutHash(left), withoutHash(right));
}

export function revisionOf(rs: ReplicaSet | Deployment): number {
  const text = rs.metadata.annotations?.[revisionAnnotation];
  const parsed = text === undefined ? 0 : Number(text);
  return Number.isInteger(parsed) && parsed > 0 ? parsed : 0;
}

export function maxRevision(replicaSets: readonly ReplicaSet[]): number {
  return replicaSets.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0);
}

function creationMs(rs: ReplicaSet): number {
  return parseTime(rs.metadata.creationTimestamp) ?? 0;
}

/** ReplicaSetsByCreationTimestamp: oldest first, ties by name. */
export function byCreation(left: ReplicaSet, right: ReplicaSet): number {
  const difference = creationMs(left) - creationMs(right);
  if (difference !== 0) return difference;
  return (left.metadata.name ?? "") < (right.metadata.name ?? "") ? -1 : 1;
}

export function specReplicas(rs: ReplicaSet): number {
  return rs.spec?.replicas ?? 1;
}

/** Sum of spec.replicas (GetReplicaCountForReplicaSets). */
export function totalSpecReplicas(replicaSets: readonly ReplicaSet[]): number {
  return replicaSets.reduce((sum, rs) => sum + specReplicas(rs), 0);
}

export function totalStatus(replicaSets: readonly ReplicaSet[], field: "replicas" | "readyReplicas" | "availableReplicas"): number {
  return replicaSets.reduce((sum, rs) => sum + (rs.status?.[field] ?? 0), 0);
}

/** FilterActiveReplicaSets: those asked for at least one pod. */
export function activeReplicaSets(replicaSets: readonly ReplicaSet[]): ReplicaSet[] {
  return replicaSets.filter((rs) => specReplicas(rs) > 0);
}

/** FindNewReplicaSet: the oldest ReplicaSet whose template equals the Deployment's. */
export function findNewReplicaSet(deployment: Deployment, replicaSets: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...replicaSets].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, deployment.spec?.template));
}

/** The annotations a ReplicaSet gets from its Deployment, without the controller's own keys. */
export function copiedAnnotations(deployment: Deployment): Record<string, string> {
  const copied: Record<string, string> = {};
  for (const [key, value] of Object.entries(deployment.metadata.annotations ?? {})) if (!annotationsNotCopied.has(key)) copied[key] = value;
  return copied;
}

/** Whether a ReplicaSet's desired-replicas annotation records a size the Deployment no longer has. */
export function desiredReplicasDiffer(rs: ReplicaSet, deployment: Deployment): boolean {
  const text = rs.metadata.annotations?.[desiredReplicasAnnotation];
  if (text === undefined) return false;
  return Number(text) !== replicasOf(deployment);
}

/** The desired-replicas and max-replicas annotations a scaled ReplicaSet carries. */
export function replicaAnnotations(deployment: Deployment): Record<string, string> {
  const desired = replicasOf(deployment);
  return { [desiredReplicasAnnotation]: String(desired), [maxReplicasAnnotation]: String(desired + maxSurgeOf(deployment)) };
}

/**
 * NewRSNewReplicas for RollingUpdate: grow the new ReplicaSet as far as maxSurge allows over all
 * ReplicaSets' spec.replicas, never past the Deployment's replicas.
 */
export function newReplicaSetTarget(deployment: Deployment, allReplicaSets: readonly ReplicaSet[], newReplicas: number): number {
  if (!isRollingUpdate(deployment)) return replicasOf(deployment);
  const current = totalSpecReplicas(allReplicaSets);
  const maxTotal = replicasOf(deployment) + maxSurgeOf(deployment);
  if (current >= maxTotal) return newReplicas;
  const scaleUp = Math.min(maxTotal - current, replicasOf(deployment) - newReplicas);
  return newReplicas + scaleUp;
}
