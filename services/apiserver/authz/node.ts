/**
 * The node authorizer (upstream's Node authorization mode, with its field-selector rules): a user
 * `system:node:<n>` in group `system:nodes` may read and write its own Node and Lease, read the
 * pods bound to it (list and watch only with `spec.nodeName=<n>`), write their status, read the
 * secrets, configmaps and persistent volume claims those pods reference, ask for tokens of their
 * service accounts, create events, and read services and endpoints (its proxy needs them); for
 * the agent's ingress proxy also read Ingresses, IngressClasses and the TLS secrets Ingresses
 * name in their own namespace (`spec.tls[].secretName`), nothing more.
 * Anything else gets no opinion, with upstream's reason, and RBAC decides.
 */
import { allow, noOpinion, type Attributes, type Decision, type ResourceAttributes } from "./attributes.ts";

export const nodesGroup = "system:nodes";
export const nodeUserPrefix = "system:node:";
export const nodeLeaseNamespace = "kube-node-lease";

const read = ["get", "list", "watch"];

/** The parts of a pod the node authorizer looks at. */
export interface PodReferences {
  readonly metadata: { readonly name?: string | undefined; readonly namespace?: string | undefined };
  readonly spec?: {
    readonly nodeName?: string | undefined;
    readonly serviceAccountName?: string | undefined;
    readonly volumes?: readonly unknown[] | undefined;
    readonly containers?: readonly unknown[] | undefined;
    readonly initContainers?: readonly unknown[] | undefined;
    readonly ephemeralContainers?: readonly unknown[] | undefined;
    readonly imagePullSecrets?: readonly unknown[] | undefined;
  } | undefined;
}

/** The node's name when the user is a node (`system:node:<n>` in `system:nodes`). */
export function nodeNameOf(user: { readonly name: string; readonly groups: readonly string[] }): string | undefined {
  if (!user.groups.includes(nodesGroup) || !user.name.startsWith(nodeUserPrefix)) return undefined;
  const name = user.name.slice(nodeUserPrefix.length);
  return name === "" ? undefined : name;
}

/** Resources whose decision depends on the pods bound to the node (the caller fetches them only then). */
export function needsBoundPods(attributes: Attributes): boolean {
  if (attributes.kind !== "resource" || attributes.apiGroup !== "") return false;
  return ["pods", "secrets", "configmaps", "persistentvolumeclaims", "serviceaccounts"].includes(attributes.resource);
}

type RecordLike = Readonly<Record<string, unknown>>;

function recordsOf(value: unknown): RecordLike[] {
  return Array.isArray(value) ? value.filter((item): item is RecordLike => typeof item === "object" && item !== null) : [];
}

function stringAt(record: RecordLike | undefined, key: string): string | undefined {
  const value = record?.[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function child(record: RecordLike | undefined, key: string): RecordLike | undefined {
  const value = record?.[key];
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as RecordLike) : undefined;
}

interface Referenced {
  readonly secrets: Set<string>;
  readonly configmaps: Set<string>;
  readonly persistentvolumeclaims: Set<string>;
  readonly serviceaccounts: Set<string>;
}

function addVolumeReferences(podName: string, volumes: readonly unknown[], into: Referenced): void {
  for (const volume of recordsOf(volumes)) {
    // A generic ephemeral volume's claim is `<pod>-<volume>`, as upstream's graph has it.
    const volumeName = stringAt(volume, "name");
    if (child(volume, "ephemeral") !== undefined && volumeName !== undefined) into.persistentvolumeclaims.add(`${podName}-${volumeName}`);
    const secret = stringAt(child(volume, "secret"), "secretName");
    if (secret !== undefined) into.secrets.add(secret);
    const configMap = stringAt(child(volume, "configMap"), "name");
    if (configMap !== undefined) into.configmaps.add(configMap);
    const claim = stringAt(child(volume, "persistentVolumeClaim"), "claimName");
    if (claim !== undefined) into.persistentvolumeclaims.add(claim);
    for (const source of recordsOf(child(volume, "projected")?.["sources"])) {
      const projectedSecret = stringAt(child(source, "secret"), "name");
      if (projectedSecret !== undefined) into.secrets.add(projectedSecret);
      const projectedConfigMap = stringAt(child(source, "configMap"), "name");
      if (projectedConfigMap !== undefined) into.configmaps.add(projectedConfigMap);
    }
  }
}

function addContainerReferences(containers: readonly unknown[], into: Referenced): void {
  for (const container of recordsOf(containers)) {
    for (const env of recordsOf(container["env"])) {
      const from = child(env, "valueFrom");
      const secret = stringAt(child(from, "secretKeyRef"), "name");
      if (secret !== undefined) into.secrets.add(secret);
      const configMap = stringAt(child(from, "configMapKeyRef"), "name");
      if (configMap !== undefined) into.configmaps.add(configMap);
    }
    for (const source of recordsOf(container["envFrom"])) {
      const secret = stringAt(child(source, "secretRef"), "name");
      if (secret !== undefined) into.secrets.add(secret);
      const configMap = stringAt(child(source, "configMapRef"), "name");
      if (configMap !== undefined) into.configmaps.add(configMap);
    }
  }
}

/** The names of the secrets, configmaps, claims and service account one pod references. */
export function podReferences(pod: PodReferences): Referenced {
  const referenced: Referenced = { secrets: new Set(), configmaps: new Set(), persistentvolumeclaims: new Set(), serviceaccounts: new Set() };
  const spec = pod.spec ?? {};
  addVolumeReferences(pod.metadata.name ?? "", spec.volumes ?? [], referenced);
  for (const containers of [spec.containers, spec.initContainers, spec.ephemeralContainers]) addContainerReferences(containers ?? [], referenced);
  for (const pullSecret of recordsOf(spec.imagePullSecrets ?? [])) {
    const name = stringAt(pullSecret, "name");
    if (name !== undefined) referenced.secrets.add(name);
  }
  referenced.serviceaccounts.add(spec.serviceAccountName ?? "default");
  return referenced;
}

const noRelationship = (node: string): Decision => noOpinion(`no relationship found between node '${node}' and this object`);

function ownNode(attributes: ResourceAttributes, node: string): Decision {
  if (attributes.subresource !== "" && attributes.subresource !== "status") return noOpinion(`can only access own node's status`);
  if (["list", "watch"].includes(attributes.verb)) {
    return attributes.fieldSelector["metadata.name"] === node ? allow("node reads its own Node") : noOpinion(`can only list/watch its own node (fieldSelector metadata.name=${node})`);
  }
  if (attributes.verb === "create" && attributes.subresource === "") return allow("node registers itself");
  if (attributes.name !== node) return noOpinion(`node '${node}' cannot ${attributes.verb} node '${attributes.name}'`);
  return ["get", "update", "patch", "delete"].includes(attributes.verb) ? allow("node manages its own Node") : noOpinion();
}

function ownLease(attributes: ResourceAttributes, node: string): Decision {
  if (attributes.namespace !== nodeLeaseNamespace) return noOpinion(`can only access node lease in the ${nodeLeaseNamespace} namespace`);
  if (attributes.verb === "create" && (attributes.name === "" || attributes.name === node)) return allow("node creates its Lease");
  if (attributes.name !== node) return noOpinion(`can only access node lease with the same name as the requesting node`);
  return ["get", "update", "patch", "delete"].includes(attributes.verb) ? allow("node renews its Lease") : noOpinion();
}

function boundPodAccess(attributes: ResourceAttributes, node: string, bound: readonly PodReferences[]): Decision {
  if (["list", "watch"].includes(attributes.verb) && attributes.subresource === "") {
    if (attributes.fieldSelector["spec.nodeName"] === node) return allow("node reads pods bound to it");
    return noOpinion(`can only list/watch pods with spec.nodeName field selector`);
  }
  const isBound = bound.some((pod) => pod.metadata.name === attributes.name && pod.metadata.namespace === attributes.namespace);
  if (!isBound) return noRelationship(node);
  if (attributes.subresource === "" && ["get", "delete"].includes(attributes.verb)) return allow("node reads a pod bound to it");
  if (attributes.subresource === "status" && ["get", "update", "patch"].includes(attributes.verb)) return allow("node reports a bound pod's status");
  return noOpinion();
}

/** An Ingress as far as the node authorizer looks at it. */
export interface IngressTlsReferences {
  readonly metadata: { readonly namespace?: string | undefined };
  readonly spec?: { readonly tls?: readonly unknown[] | undefined } | undefined;
}

/** True when some Ingress of `namespace` names `secretName` in spec.tls. */
export function ingressNamesSecret(ingresses: readonly IngressTlsReferences[], namespace: string, secretName: string): boolean {
  return ingresses.some((ingress) => ingress.metadata.namespace === namespace && recordsOf(ingress.spec?.tls ?? []).some((tls) => stringAt(tls, "secretName") === secretName));
}

function referencedAccess(attributes: ResourceAttributes, node: string, bound: readonly PodReferences[], ingresses: readonly IngressTlsReferences[]): Decision {
  const resource = attributes.resource as keyof Referenced;
  if (resource === "secrets" && attributes.name !== "" && attributes.subresource === "" && attributes.verb === "get" && ingressNamesSecret(ingresses, attributes.namespace, attributes.name)) {
    return allow("node reads a TLS secret an Ingress names");
  }
  const isReferenced = bound.some((pod) => pod.metadata.namespace === attributes.namespace && podReferences(pod)[resource].has(attributes.name));
  if (attributes.name === "" || !isReferenced) return noRelationship(node);
  if (resource === "serviceaccounts") return attributes.subresource === "token" && attributes.verb === "create" ? allow("node asks for a bound pod's token") : noOpinion();
  return attributes.subresource === "" && attributes.verb === "get" ? allow(`node reads a ${resource} object its pods reference`) : noOpinion();
}

/**
 * The node authorizer's decision. `bound` holds the pods bound to the node (needed only when
 * needsBoundPods() says so; pass [] otherwise); `ingresses` the Ingresses of the namespace when
 * a secret is asked for. Non-node users get no opinion.
 */
export function authorizeNode(attributes: Attributes, bound: readonly PodReferences[], ingresses: readonly IngressTlsReferences[] = []): Decision {
  const node = nodeNameOf(attributes.user);
  if (node === undefined || attributes.kind !== "resource") return noOpinion();
  const group = attributes.apiGroup;
  if (group === "" && attributes.resource === "nodes") return ownNode(attributes, node);
  if (group === "coordination.k8s.io" && attributes.resource === "leases") return ownLease(attributes, node);
  if (group === "" && attributes.resource === "pods") return boundPodAccess(attributes, node, bound);
  if (needsBoundPods(attributes)) return referencedAccess(attributes, node, bound, ingresses);
  if ((group === "" || group === "events.k8s.io") && attributes.resource === "events" && ["create", "update", "patch"].includes(attributes.verb)) return allow("node records events");
  if (group === "" && ["services", "endpoints"].includes(attributes.resource) && read.includes(attributes.verb)) return allow("node reads services");
  if (group === "discovery.k8s.io" && attributes.resource === "endpointslices" && read.includes(attributes.verb)) return allow("node reads endpoint slices");
  if (group === "networking.k8s.io" && ["ingresses", "ingressclasses"].includes(attributes.resource) && attributes.subresource === "" && read.includes(attributes.verb)) return allow("node reads ingresses");
  return noOpinion();
}
