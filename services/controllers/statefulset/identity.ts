/**
 * StatefulSet pod identity (pkg/controller/statefulset/stateful_set_utils.go): ordinal names
 * `<set>-<ordinal>`, the labels that pin a pod to its ordinal and revision, hostname and
 * subdomain from serviceName, and one PVC per claim template named `<claim>-<set>-<ordinal>`
 * that the pod mounts, so a pod created again gets its old storage back.
 */
import type { PersistentVolumeClaim, Pod, PodTemplateSpec, StatefulSet, Volume } from "../../../libs/api/index.ts";
import { newControllerRef, podFromTemplate } from "../common/pods.ts";

export const podNameLabel = "statefulset.kubernetes.io/pod-name";
export const podIndexLabel = "apps.kubernetes.io/pod-index";
export const revisionLabel = "controller-revision-hash";

export function ordinalStart(set: StatefulSet): number {
  return set.spec?.ordinals?.start ?? 0;
}

export function podName(set: StatefulSet, ordinal: number): string {
  return `${set.metadata.name ?? ""}-${ordinal}`;
}

/** The ordinal of a pod of this set, or undefined when its name is not `<set>-<n>`. */
export function ordinalOf(set: StatefulSet, pod: Pod): number | undefined {
  const prefix = `${set.metadata.name ?? ""}-`;
  const name = pod.metadata.name ?? "";
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

export function claimName(templateName: string, set: StatefulSet, ordinal: number): string {
  return `${templateName}-${set.metadata.name ?? ""}-${ordinal}`;
}

/** The PVCs a pod of this ordinal uses, as the controller creates them (kept on scale-down). */
export function claimsFor(set: StatefulSet, ordinal: number): PersistentVolumeClaim[] {
  const selectorLabels = set.spec?.selector.matchLabels ?? {};
  return (set.spec?.volumeClaimTemplates ?? []).map((template) => {
    const claim: PersistentVolumeClaim = {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: claimName(template.metadata.name ?? "", set, ordinal), namespace: set.metadata.namespace ?? "default", labels: { ...(template.metadata.labels ?? {}), ...selectorLabels } },
    };
    if (template.metadata.annotations !== undefined) claim.metadata.annotations = { ...template.metadata.annotations };
    if (template.spec !== undefined) claim.spec = structuredClone(template.spec);
    return claim;
  });
}

/** The pod of one ordinal at one revision (newVersionedStatefulSetPod). */
export function newStatefulPod(set: StatefulSet, template: PodTemplateSpec | undefined, ordinal: number, revision: string): Pod {
  const pod = podFromTemplate(template, set, newControllerRef(set, "apps/v1", "StatefulSet"));
  const name = podName(set, ordinal);
  delete pod.metadata.generateName;
  pod.metadata.name = name;
  pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [podNameLabel]: name, [podIndexLabel]: String(ordinal), [revisionLabel]: revision };
  const spec = pod.spec ?? { containers: [] };
  spec.hostname = name;
  if ((set.spec?.serviceName ?? "") !== "") spec.subdomain = set.spec!.serviceName;
  const claimVolumes: Volume[] = (set.spec?.volumeClaimTemplates ?? []).map((claim) => ({
    name: claim.metadata.name ?? "",
    persistentVolumeClaim: { claimName: claimName(claim.metadata.name ?? "", set, ordinal) },
  }));
  const claimNames = new Set(claimVolumes.map((volume) => volume.name));
  spec.volumes = [...(spec.volumes ?? []).filter((volume) => !claimNames.has(volume.name)), ...claimVolumes];
  if (spec.volumes.length === 0) delete spec.volumes;
  pod.spec = spec;
  return pod;
}

export function podRevision(pod: Pod): string | undefined {
  return pod.metadata.labels?.[revisionLabel];
}
