/**
 * The scheduler front end's half of upstream's VolumeBinding PreFilter for claims: a pod's
 * persistentVolumeClaim (and generic ephemeral) volumes resolved against the PVC, PV and
 * StorageClass caches into what the core filters on. A bound claim contributes its PV (whose
 * nodeAffinity pins the pod); an unbound claim whose class binds WaitForFirstConsumer does not
 * block (the local-path provisioner binds it once the pod is placed); any other unbound claim
 * makes the pod wait ("pod has unbound immediate PersistentVolumeClaims"). A claim that names no
 * class (storageClassName absent) has the default class's mode: Flotilla has no admission plugin
 * filling it in, and the built-in local-path provisioner takes such claims. An ephemeral volume's
 * claim counts only once it is the pod's own (the pod its controlling owner), as upstream.
 */
import { ephemeralClaimConflict, ephemeralClaimName } from "../../libs/api/index.ts";
import type { PersistentVolume, PersistentVolumeClaim, Pod, StorageClass, Volume } from "../../libs/api/index.ts";
import type { ScheduleInputs } from "./core/index.ts";

/** Read-only views of the caches the scheduler watches (informers in the service, maps in tests). */
export interface VolumeLookups {
  claim(namespace: string, name: string): PersistentVolumeClaim | undefined;
  volume(name: string): PersistentVolume | undefined;
  storageClass(name: string): StorageClass | undefined;
  /** The class annotated storageclass.kubernetes.io/is-default-class=true, if any. */
  defaultStorageClass(): StorageClass | undefined;
}

export const defaultClassAnnotation = "storageclass.kubernetes.io/is-default-class";

/** The default class among `classes` (upstream picks the newest when several claim it; so do we). */
export function pickDefaultStorageClass(classes: readonly StorageClass[]): StorageClass | undefined {
  const defaults = classes.filter((candidate) => candidate.metadata.annotations?.[defaultClassAnnotation] === "true");
  return defaults.sort((left, right) => (right.metadata.creationTimestamp ?? "").localeCompare(left.metadata.creationTimestamp ?? ""))[0];
}

function claimNameOf(pod: Pod, volume: Volume): string | undefined {
  const named = volume.persistentVolumeClaim?.claimName;
  if (named !== undefined && named !== "") return named;
  return volume.ephemeral === undefined ? undefined : ephemeralClaimName(pod, volume);
}

function bindsOnFirstConsumer(claim: PersistentVolumeClaim, lookups: VolumeLookups): boolean {
  const className = claim.spec?.storageClassName;
  // No class at all: the default class decides, and with none the local-path provisioner (WaitForFirstConsumer) binds it.
  if (className === undefined) return (lookups.defaultStorageClass()?.volumeBindingMode ?? "WaitForFirstConsumer") === "WaitForFirstConsumer";
  // "" asks for no class: only a pre-made PV can bind it, Immediate as upstream.
  if (className === "") return false;
  return lookups.storageClass(className)?.volumeBindingMode === "WaitForFirstConsumer";
}

/**
 * What the core needs about the pod's volumes. A claim, or a claim's PV, that the caches do not
 * hold (yet) makes the pod wait with upstream's message rather than be placed blind: a pod created
 * right after its PV and claim would otherwise land on a node the PV's affinity forbids. Its
 * arrival is a VolumeChange that re-queues the pod.
 */
export function resolvePodVolumes(pod: Pod, lookups: VolumeLookups): ScheduleInputs {
  const namespace = pod.metadata.namespace ?? "default";
  const boundVolumes: PersistentVolume[] = [];
  let unboundImmediateClaims = false;
  for (const volume of pod.spec?.volumes ?? []) {
    const claimName = claimNameOf(pod, volume);
    if (claimName === undefined) continue;
    const claim = lookups.claim(namespace, claimName);
    if (claim === undefined) return { missingVolumeReason: `persistentvolumeclaim "${claimName}" not found` };
    const conflict = volume.ephemeral === undefined ? undefined : ephemeralClaimConflict(pod, claim);
    if (conflict !== undefined) return { missingVolumeReason: conflict };
    const volumeName = claim.spec?.volumeName ?? "";
    if (volumeName !== "") {
      const volume = lookups.volume(volumeName);
      if (volume === undefined) return { missingVolumeReason: missingVolumeReason };
      boundVolumes.push(volume);
    } else if (!bindsOnFirstConsumer(claim, lookups)) {
      unboundImmediateClaims = true;
    }
  }
  return { boundVolumes, unboundImmediateClaims };
}

/** Upstream's VolumeBinding reason when a claim names a PV that does not exist. */
const missingVolumeReason = "pvc(s) bound to non-existent pv(s)";
