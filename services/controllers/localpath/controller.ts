/**
 * A built-in local-path provisioner (what k3s ships as rancher's local-path-provisioner): keeps a
 * default StorageClass `local-path` (WaitForFirstConsumer, reclaim Delete), and once a pod using
 * a Pending claim of that class (or of no class), named or ephemeral, is bound to a node, creates
 * a hostPath PersistentVolume under `/var/lib/flotilla/storage` with node affinity to that node
 * and binds the claim to it. A deleted claim's volume is deleted (Delete policy). Keys:
 * `claim:<ns>/<name>`, `pod:<ns>/<name>`, `class`, `volume:<name>`.
 */
import { isStatusError, podClaimNames } from "../../../libs/api/index.ts";
import type { PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from "../../../libs/api/index.ts";
import type { Controller, ControllerContext, Informer } from "../../../libs/client/types.ts";
import { persistentVolumeClaimsResource, persistentVolumesResource, podsResource, storageClassesResource } from "../common/resources.ts";

export const localPathClassName = "local-path";
export const localPathProvisioner = "flotilla.dev/local-path";
export const storageRoot = "/var/lib/flotilla/storage";
export const defaultClassAnnotation = "storageclass.kubernetes.io/is-default-class";
export const selectedNodeAnnotation = "volume.kubernetes.io/selected-node";

export function volumeNameFor(claim: PersistentVolumeClaim): string {
  return `pvc-${claim.metadata.uid ?? ""}`;
}

export class LocalPathProvisioner implements Controller {
  readonly name = "localpath";
  #context: ControllerContext | undefined;
  #claims: Informer<PersistentVolumeClaim> | undefined;
  #volumes: Informer<PersistentVolume> | undefined;
  #pods: Informer<Pod> | undefined;
  #classes: Informer<StorageClass> | undefined;

  setup(context: ControllerContext): void {
    this.#context = context;
    this.#claims = context.informers.informerFor<PersistentVolumeClaim>(persistentVolumeClaimsResource);
    this.#volumes = context.informers.informerFor<PersistentVolume>(persistentVolumesResource);
    this.#pods = context.informers.informerFor<Pod>(podsResource);
    this.#classes = context.informers.informerFor<StorageClass>(storageClassesResource);
    const claimKey = (claim: PersistentVolumeClaim): string => `claim:${claim.metadata.namespace ?? ""}/${claim.metadata.name ?? ""}`;
    this.#claims.addHandlers({ onAdd: (claim) => context.queue.add(claimKey(claim)), onUpdate: (_previous, claim) => context.queue.add(claimKey(claim)) });
    this.#volumes.addHandlers({ onAdd: (volume) => context.queue.add(`volume:${volume.metadata.name ?? ""}`) });
    this.#claims.addHandlers({ onDelete: (claim) => context.queue.add(`volume:${volumeNameFor(claim)}`) });
    const podChanged = (pod: Pod): void => {
      if ((pod.spec?.nodeName ?? "") === "") return;
      for (const name of podClaimNames(pod)) context.queue.add(`claim:${pod.metadata.namespace ?? ""}/${name}`);
    };
    this.#pods.addHandlers({ onAdd: podChanged, onUpdate: (_previous, pod) => podChanged(pod) });
    this.#classes.addHandlers({ onDelete: () => context.queue.add("class") });
    context.queue.add("class");
  }

  #state(): { context: ControllerContext; claims: Informer<PersistentVolumeClaim>; volumes: Informer<PersistentVolume>; pods: Informer<Pod>; classes: Informer<StorageClass> } {
    if (this.#context === undefined || this.#claims === undefined || this.#volumes === undefined || this.#pods === undefined || this.#classes === undefined) {
      throw new Error("local-path provisioner used before setup()");
    }
    return { context: this.#context, claims: this.#claims, volumes: this.#volumes, pods: this.#pods, classes: this.#classes };
  }

  async reconcile(key: string): Promise<void> {
    if (key === "class") await this.#ensureClass();
    else if (key.startsWith("claim:")) await this.#provision(key.slice("claim:".length));
    else if (key.startsWith("volume:")) await this.#reclaim(key.slice("volume:".length));
  }

  async #ensureClass(): Promise<void> {
    const { context, classes } = this.#state();
    if (classes.get(localPathClassName) !== undefined) return;
    const storageClass: StorageClass = {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: localPathClassName, annotations: { [defaultClassAnnotation]: "true" } },
      provisioner: localPathProvisioner,
      reclaimPolicy: "Delete",
      volumeBindingMode: "WaitForFirstConsumer",
    };
    await context.client.create(storageClassesResource, storageClass).catch((error: unknown) => {
      if (!isStatusError(error, "AlreadyExists")) throw error;
    });
  }

  async #provision(claimKey: string): Promise<void> {
    const { context, claims, pods, volumes } = this.#state();
    const claim = claims.get(claimKey);
    if (claim === undefined || (claim.spec?.volumeName ?? "") !== "" || (claim.metadata.deletionTimestamp ?? null) !== null) return;
    const className = claim.spec?.storageClassName ?? localPathClassName;
    if (className !== localPathClassName) return;
    const consumer = pods
      .listMatching(claim.metadata.namespace, "")
      .find((pod) => (pod.spec?.nodeName ?? "") !== "" && podClaimNames(pod).includes(claim.metadata.name ?? ""));
    if (consumer === undefined) return;
    const nodeName = consumer.spec!.nodeName!;
    const volumeName = volumeNameFor(claim);
    const capacity = { storage: claim.spec?.resources?.requests?.storage ?? "1Gi" };
    const accessModes = claim.spec?.accessModes ?? ["ReadWriteOnce"];
    if (volumes.get(volumeName) === undefined) {
      const volume: PersistentVolume = {
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name: volumeName, annotations: { "pv.kubernetes.io/provisioned-by": localPathProvisioner } },
        spec: {
          capacity,
          accessModes,
          hostPath: { path: `${storageRoot}/${volumeName}_${claim.metadata.namespace ?? ""}_${claim.metadata.name ?? ""}`, type: "DirectoryOrCreate" },
          claimRef: { kind: "PersistentVolumeClaim", apiVersion: "v1", namespace: claim.metadata.namespace ?? "", name: claim.metadata.name ?? "", uid: claim.metadata.uid ?? "" },
          persistentVolumeReclaimPolicy: "Delete",
          storageClassName: localPathClassName,
          volumeMode: "Filesystem",
          nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [nodeName] }] }] } },
        },
      };
      await context.client.create(persistentVolumesResource, volume).catch((error: unknown) => {
        if (!isStatusError(error, "AlreadyExists")) throw error;
      });
    }
    const annotations = { ...(claim.metadata.annotations ?? {}), "pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes", [selectedNodeAnnotation]: nodeName };
    const bound = await context.client.update<PersistentVolumeClaim>(persistentVolumeClaimsResource, {
      ...claim,
      metadata: { ...claim.metadata, annotations },
      spec: { ...(claim.spec ?? {}), volumeName },
    });
    await context.client.update(persistentVolumeClaimsResource, { ...bound, status: { phase: "Bound", accessModes, capacity } }, { subresource: "status" });
    const volume = await context.client.get<PersistentVolume>(persistentVolumesResource, undefined, volumeName);
    if (volume.status?.phase !== "Bound") await context.client.update(persistentVolumesResource, { ...volume, status: { phase: "Bound" } }, { subresource: "status" });
  }

  // Reclaim policy Delete: the volume of a claim that is gone goes too.
  async #reclaim(volumeName: string): Promise<void> {
    const { context, claims, volumes } = this.#state();
    const volume = volumes.get(volumeName);
    if (volume === undefined || volume.spec?.storageClassName !== localPathClassName || volume.spec.persistentVolumeReclaimPolicy !== "Delete") return;
    const reference = volume.spec.claimRef;
    if (reference === undefined) return;
    const claim = claims.get(`${reference.namespace ?? ""}/${reference.name ?? ""}`);
    if (claim !== undefined && claim.metadata.uid === reference.uid) return;
    try {
      // The cache may lag: only a claim the server no longer has releases the volume.
      const live = await context.client.get<PersistentVolumeClaim>(persistentVolumeClaimsResource, reference.namespace, reference.name ?? "");
      if (live.metadata.uid === reference.uid) return;
    } catch (error) {
      if (!isStatusError(error, "NotFound")) throw error;
    }
    await context.client.delete(persistentVolumesResource, undefined, volumeName).catch((error: unknown) => {
      if (!isStatusError(error, "NotFound")) throw error;
    });
  }
}
