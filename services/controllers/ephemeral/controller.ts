/**
 * The ephemeral volume controller (pkg/controller/volume/ephemeral): for each generic ephemeral
 * volume of a pod (`spec.volumes[].ephemeral`) it creates the claim `<pod>-<volume>` from the
 * volume's claim template, with the pod as controlling owner, so the claim is provisioned like any
 * other (the local-path provisioner binds it once the pod is placed) and the garbage collector
 * deletes it with the pod. A claim of that name that the pod does not own is left alone: the pod
 * then cannot start (the scheduler says why) and gets a Warning event. A deleted claim is made
 * again while its pod lives. Pods being deleted get nothing new. Keys are `<namespace>/<pod>`.
 */
import { ephemeralClaimConflict, ephemeralClaimName, isStatusError } from "../../../libs/api/index.ts";
import type { PersistentVolumeClaim, Pod, Volume } from "../../../libs/api/index.ts";
import type { Controller, ControllerContext, Informer } from "../../../libs/client/types.ts";
import { persistentVolumeClaimsResource, podsResource } from "../common/resources.ts";

/** Informer index: pods by the `<namespace>/<claim>` of each of their ephemeral volumes. */
const podsByEphemeralClaim = "ephemeral-claim";

const objectKey = (namespace: string | undefined, name: string | undefined): string => `${namespace ?? ""}/${name ?? ""}`;

function ephemeralVolumes(pod: Pod): Volume[] {
  return (pod.spec?.volumes ?? []).filter((volume) => volume.ephemeral !== undefined);
}

/** The claim an ephemeral volume's template describes, owned by the pod. */
export function claimForEphemeralVolume(pod: Pod, volume: Volume): PersistentVolumeClaim {
  const template = volume.ephemeral?.volumeClaimTemplate;
  const metadata = template?.metadata ?? {};
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name: ephemeralClaimName(pod, volume),
      namespace: pod.metadata.namespace ?? "default",
      ...(metadata.labels === undefined ? {} : { labels: { ...metadata.labels } }),
      ...(metadata.annotations === undefined ? {} : { annotations: { ...metadata.annotations } }),
      ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: pod.metadata.name ?? "", uid: pod.metadata.uid ?? "", controller: true, blockOwnerDeletion: true }],
    },
    spec: structuredClone(template?.spec ?? {}),
  };
}

export class EphemeralVolumeController implements Controller {
  readonly name = "ephemeral-volume";
  #context: ControllerContext | undefined;
  #pods: Informer<Pod> | undefined;
  #claims: Informer<PersistentVolumeClaim> | undefined;

  setup(context: ControllerContext): void {
    this.#context = context;
    this.#pods = context.informers.informerFor<Pod>(podsResource);
    this.#claims = context.informers.informerFor<PersistentVolumeClaim>(persistentVolumeClaimsResource);
    const pods = this.#pods;
    pods.addIndex(podsByEphemeralClaim, (pod) => ephemeralVolumes(pod).map((volume) => objectKey(pod.metadata.namespace, ephemeralClaimName(pod, volume))));
    const podChanged = (pod: Pod): void => {
      if (ephemeralVolumes(pod).length > 0) context.queue.add(objectKey(pod.metadata.namespace, pod.metadata.name));
    };
    pods.addHandlers({ onAdd: podChanged, onUpdate: (_previous, pod) => podChanged(pod) });
    // A claim that goes away is made again for its pod; one that was in the way no longer is.
    this.#claims.addHandlers({
      onDelete: (claim) => {
        for (const pod of pods.byIndex(podsByEphemeralClaim, objectKey(claim.metadata.namespace, claim.metadata.name))) podChanged(pod);
      },
    });
  }

  #state(): { context: ControllerContext; pods: Informer<Pod>; claims: Informer<PersistentVolumeClaim> } {
    if (this.#context === undefined || this.#pods === undefined || this.#claims === undefined) throw new Error("ephemeral volume controller used before setup()");
    return { context: this.#context, pods: this.#pods, claims: this.#claims };
  }

  async reconcile(key: string): Promise<void> {
    const { pods } = this.#state();
    const pod = pods.get(key);
    if (pod === undefined || (pod.metadata.deletionTimestamp ?? null) !== null) return;
    for (const volume of ephemeralVolumes(pod)) await this.#ensureClaim(pod, volume);
  }

  async #ensureClaim(pod: Pod, volume: Volume): Promise<void> {
    const { context, claims } = this.#state();
    const wanted = claimForEphemeralVolume(pod, volume);
    const cached = claims.get(objectKey(wanted.metadata.namespace, wanted.metadata.name));
    if (cached !== undefined) {
      this.#reportConflict(pod, cached);
      return;
    }
    try {
      await context.client.create(persistentVolumeClaimsResource, wanted);
    } catch (error) {
      if (isStatusError(error, "AlreadyExists")) {
        // The cache lags the server: judge the claim that is there.
        this.#reportConflict(pod, await context.client.get<PersistentVolumeClaim>(persistentVolumeClaimsResource, wanted.metadata.namespace, wanted.metadata.name ?? ""));
        return;
      }
      context.events.record(pod, "Warning", "FailedBinding", `PVC creation failed: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
  }

  #reportConflict(pod: Pod, claim: PersistentVolumeClaim): void {
    const conflict = ephemeralClaimConflict(pod, claim);
    if (conflict !== undefined) this.#state().context.events.record(pod, "Warning", "FailedBinding", conflict);
  }
}
