/**
 * The scheduler front end's half of upstream's VolumeBinding PreFilter for claims: a pod's
 * persistentVolumeClaim (and generic ephemeral) volumes resolved against the PVC, PV and
 * StorageClass caches into what the core filters on. A bound claim contributes its PV (whose
 * nodeAffinity pins the pod); an unbound claim whose class binds WaitForFirstConsumer does not
 * block (the local-path provisioner binds it once the pod is placed); any other unbound claim
 * makes the pod wait ("pod has unbound immediate PersistentVolumeClaims").
 */
import type { PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from "../../libs/api/index.ts";
import type { ScheduleInputs } from "./core/index.ts";

/** Read-only views of the caches the scheduler watches (informers in the service, maps in tests). */
export interface VolumeLookups {
  claim(namespace: string, name: string): PersistentVolumeClaim | undefined;
  volume(name: string): PersistentVolume | undefined;
  storageClass(name: string): StorageClass | undefined;
}

/** The claim names a pod's volumes refer to (an ephemeral volume's claim is `<pod>-<volume>`). */
export function podClaimNames(pod: Pod): string[] {
  const names: string[] = [];
  for (const volume of pod.spec?.volumes ?? []) {
    const claimName = volume.persistentVolumeClaim?.claimName;
    if (claimName !== undefined && claimName !== "") names.push(claimName);
    else if (volume.ephemeral !== undefined) names.push(`${pod.metadata.name ?? ""}-${volume.name}`);
  }
  return names;
}

function bindsOnFirstConsumer(claim: PersistentVolumeClaim, lookups: VolumeLookups): boolean {
  const className = claim.spec?.storageClassName ?? "";
  if (className === "") return false;
  return lookups.storageClass(className)?.volumeBindingMode === "WaitForFirstConsumer";
}

/**
 * What the core needs about the pod's volumes. A claim or PV the caches do not hold yet is
 * skipped: its arrival is a VolumeChange that re-queues the pod, and the kubelet side refuses to
 * start a pod without its claim.
 */
export function resolvePodVolumes(pod: Pod, lookups: VolumeLookups): ScheduleInputs {
  const namespace = pod.metadata.namespace ?? "default";
  const boundVolumes: PersistentVolume[] = [];
  let unboundImmediateClaims = false;
  for (const claimName of podClaimNames(pod)) {
    const claim = lookups.claim(namespace, claimName);
    if (claim === undefined) continue;
    const volumeName = claim.spec?.volumeName ?? "";
    if (volumeName !== "") {
      const volume = lookups.volume(volumeName);
      if (volume !== undefined) boundVolumes.push(volume);
    } else if (!bindsOnFirstConsumer(claim, lookups)) {
      unboundImmediateClaims = true;
    }
  }
  return { boundVolumes, unboundImmediateClaims };
}
