/**
 * Generic ephemeral volumes (`spec.volumes[].ephemeral`), as upstream's
 * component-helpers/storage/ephemeral: the claim of volume `v` in pod `p` is named `p-v` and is
 * the pod's only while the pod is its controlling owner. The controller that creates the claim,
 * the scheduler and the local-path provisioner all resolve it the same way through here.
 */
import type { PersistentVolumeClaim } from "./types/core.ts";
import type { Pod, Volume } from "./types/pod.ts";

/** The claim a generic ephemeral volume of `pod` uses. */
export function ephemeralClaimName(pod: Pod, volume: Volume): string {
  return `${pod.metadata.name ?? ""}-${volume.name}`;
}

/** Every claim the pod's volumes use, named or ephemeral, in volume order. */
export function podClaimNames(pod: Pod): string[] {
  const names: string[] = [];
  for (const volume of pod.spec?.volumes ?? []) {
    const claimName = volume.persistentVolumeClaim?.claimName;
    if (claimName !== undefined && claimName !== "") names.push(claimName);
    else if (volume.ephemeral !== undefined) names.push(ephemeralClaimName(pod, volume));
  }
  return names;
}

/**
 * Why `claim` may not serve as an ephemeral volume of `pod`, in upstream's words, or undefined
 * when the pod controls it. A claim of that name made by someone else is never taken over.
 */
export function ephemeralClaimConflict(pod: Pod, claim: PersistentVolumeClaim): string | undefined {
  const owned = (claim.metadata.ownerReferences ?? []).some((owner) => owner.controller === true && owner.uid === pod.metadata.uid);
  if (owned) return undefined;
  const namespace = pod.metadata.namespace ?? "";
  return `PVC ${claim.metadata.namespace ?? namespace}/${claim.metadata.name ?? ""} was not created for pod ${namespace}/${pod.metadata.name ?? ""} (pod is not owner)`;
}
