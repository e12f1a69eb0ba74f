/**
 * Pod defaulting as upstream's core/v1 defaulters (pkg/apis/core/v1/defaults.go plus the generated
 * SetObjectDefaults_Pod walk): the fields `kubectl get pod -o yaml` shows although nobody wrote
 * them. Functions mutate the object they are given; defaultObject() hands them a copy.
 */
import type { Container, HTTPGetAction, Lifecycle, PodSpec, PodTemplateSpec, Probe, Volume, Pod } from "../types/pod.ts";
import type { PersistentVolumeClaimSpec } from "../types/core.ts";

/** File mode upstream gives configMap, secret, downwardAPI and projected volumes (0644). */
export const volumeFileModeDefault = 0o644;
export const terminationGracePeriodSecondsDefault = 30;
export const terminationMessagePathDefault = "/dev/termination-log";
export const schedulerNameDefault = "default-scheduler";

/**
 * Upstream's pull policy rule: the tag of `name:tag` (a digest wins and means IfNotPresent);
 * no tag or `latest` means Always.
 */
export function imagePullPolicyFor(image: string): "Always" | "IfNotPresent" {
  if (image.includes("@")) return "IfNotPresent";
  const lastSlash = image.lastIndexOf("/");
  const lastColon = image.lastIndexOf(":");
  // A colon before the last slash belongs to a registry port (`host:5000/app`), not a tag.
  const tag = lastColon > lastSlash ? image.slice(lastColon + 1) : "";
  return tag === "" || tag === "latest" ? "Always" : "IfNotPresent";
}

function defaultHttpGet(action: HTTPGetAction | undefined): void {
  if (action === undefined) return;
  if ((action.path ?? "") === "") action.path = "/";
  if (action.scheme === undefined) action.scheme = "HTTP";
}

function defaultProbe(probe: Probe | undefined): void {
  if (probe === undefined) return;
  // Upstream defaults a zero as well as an absent value (Go's zero int32 means "unset").
  if ((probe.timeoutSeconds ?? 0) === 0) probe.timeoutSeconds = 1;
  if ((probe.periodSeconds ?? 0) === 0) probe.periodSeconds = 10;
  if ((probe.successThreshold ?? 0) === 0) probe.successThreshold = 1;
  if ((probe.failureThreshold ?? 0) === 0) probe.failureThreshold = 3;
  defaultHttpGet(probe.httpGet);
}

function defaultLifecycle(lifecycle: Lifecycle | undefined): void {
  defaultHttpGet(lifecycle?.postStart?.httpGet);
  defaultHttpGet(lifecycle?.preStop?.httpGet);
}

export function defaultContainer(container: Container): void {
  if (container.imagePullPolicy === undefined) container.imagePullPolicy = imagePullPolicyFor(container.image ?? "");
  if ((container.terminationMessagePath ?? "") === "") container.terminationMessagePath = terminationMessagePathDefault;
  if (container.terminationMessagePolicy === undefined) container.terminationMessagePolicy = "File";
  for (const port of container.ports ?? []) {
    if (port.protocol === undefined) port.protocol = "TCP";
  }
  for (const variable of container.env ?? []) {
    const fieldRef = variable.valueFrom?.fieldRef;
    if (fieldRef !== undefined && (fieldRef.apiVersion ?? "") === "") fieldRef.apiVersion = "v1";
  }
  defaultProbe(container.livenessProbe);
  defaultProbe(container.readinessProbe);
  defaultProbe(container.startupProbe);
  defaultLifecycle(container.lifecycle);
}

const volumeSourceKeys = ["hostPath", "emptyDir", "secret", "configMap", "persistentVolumeClaim", "projected", "downwardAPI", "nfs", "csi", "ephemeral", "image"] as const;

export function defaultPersistentVolumeClaimSpec(spec: PersistentVolumeClaimSpec): void {
  if (spec.volumeMode === undefined) spec.volumeMode = "Filesystem";
}

export function defaultVolume(volume: Volume): void {
  // A volume without a source is an emptyDir (SetDefaults_Volume).
  if (volumeSourceKeys.every((key) => volume[key] === undefined)) volume.emptyDir = {};
  if (volume.secret !== undefined && volume.secret.defaultMode === undefined) volume.secret.defaultMode = volumeFileModeDefault;
  if (volume.configMap !== undefined && volume.configMap.defaultMode === undefined) volume.configMap.defaultMode = volumeFileModeDefault;
  if (volume.downwardAPI !== undefined && volume.downwardAPI.defaultMode === undefined) volume.downwardAPI.defaultMode = volumeFileModeDefault;
  if (volume.projected !== undefined && volume.projected.defaultMode === undefined) volume.projected.defaultMode = volumeFileModeDefault;
  if (volume.hostPath !== undefined && volume.hostPath.type === undefined) volume.hostPath.type = "";
  const claimTemplate = volume.ephemeral?.volumeClaimTemplate;
  if (claimTemplate !== undefined) defaultPersistentVolumeClaimSpec(claimTemplate.spec);
}

/** SetDefaults_PodSpec and everything inside it; shared by pods and pod templates. */
export function defaultPodSpec(spec: PodSpec): void {
  if (spec.dnsPolicy === undefined) spec.dnsPolicy = "ClusterFirst";
  if (spec.restartPolicy === undefined) spec.restartPolicy = "Always";
  if (spec.securityContext === undefined) spec.securityContext = {};
  if (spec.terminationGracePeriodSeconds === undefined) spec.terminationGracePeriodSeconds = terminationGracePeriodSecondsDefault;
  if ((spec.schedulerName ?? "") === "") spec.schedulerName = schedulerNameDefault;
  // The deprecated serviceAccount field mirrors serviceAccountName (DeprecatedServiceAccount).
  if ((spec.serviceAccountName ?? "") === "" && (spec.serviceAccount ?? "") !== "") spec.serviceAccountName = spec.serviceAccount ?? "";
  for (const volume of spec.volumes ?? []) defaultVolume(volume);
  for (const container of spec.initContainers ?? []) defaultContainer(container);
  for (const container of spec.containers ?? []) defaultContainer(container);
  for (const container of spec.ephemeralContainers ?? []) defaultContainer(container);
  if (spec.hostNetwork === true) copyContainerPortsToHostPorts(spec);
}

// With host networking a container port is a host port (SetDefaults_PodSpec).
function copyContainerPortsToHostPorts(spec: PodSpec): void {
  for (const container of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    for (const port of container.ports ?? []) {
      if ((port.hostPort ?? 0) === 0) port.hostPort = port.containerPort;
    }
  }
}

/** A pod template inside a workload: pod spec defaults only (no enableServiceLinks, as upstream). */
export function defaultPodTemplateSpec(template: PodTemplateSpec | undefined): void {
  if (template?.spec !== undefined) defaultPodSpec(template.spec);
}

// SetDefaults_Pod: a limit without a request makes the request equal the limit.
function defaultRequestsFromLimits(container: Container): void {
  const limits = container.resources?.limits;
  if (limits === undefined || container.resources === undefined) return;
  const requests = { ...(container.resources.requests ?? {}) };
  for (const [resource, limit] of Object.entries(limits)) {
    if (requests[resource] === undefined) requests[resource] = limit;
  }
  if (Object.keys(requests).length > 0) container.resources.requests = requests;
}

/** SetDefaults_Pod: the pod spec defaults plus what only real pods get. */
export function defaultPod(pod: Pod): void {
  if (pod.spec === undefined) return;
  defaultPodSpec(pod.spec);
  if (pod.spec.enableServiceLinks === undefined) pod.spec.enableServiceLinks = true;
  for (const container of [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? [])]) defaultRequestsFromLimits(container);
}
