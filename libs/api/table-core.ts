/**
 * Table rows of core/v1 resources as upstream's printers fill them: services, endpoints, nodes,
 * events, namespaces, secrets, service accounts, config maps, persistent volumes and claims,
 * resource quotas and pod templates. Wide cells are always included.
 */
import { parseTime, translateTimestampSince } from "./duration.ts";
import { compareStrings, sortedUnique } from "./go-format.ts";
import { formatLabels } from "./labels.ts";
import { canonicalQuantity } from "./quantity.ts";
import type { RowCells } from "./table-pod.ts";
import { containerCells } from "./table-workloads.ts";
import type {
  ConfigMap,
  Endpoints,
  Event,
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeAccessMode,
  PersistentVolumeClaim,
  ResourceQuota,
  Secret,
  Service,
  ServiceAccount,
} from "./types/core.ts";
import type { KubeObject, ResourceList } from "./types/meta.ts";
import type { PodTemplate } from "./types/pod.ts";

/** How many items upstream lists in a cell before `+ N more...`. */
export const cellItemsMax = 3;

export function age(object: KubeObject, nowMs: number): string {
  return translateTimestampSince(object.metadata.creationTimestamp, nowMs);
}

/** A quantity as upstream's Quantity.String() prints it; a missing one is the zero quantity. */
export function quantityCell(list: ResourceList | undefined, name: string): string {
  const text = list?.[name];
  if (text === undefined) return "0";
  try {
    return canonicalQuantity(text);
  } catch {
    return text;
  }
}

function isDeleting(object: KubeObject): boolean {
  return object.metadata.deletionTimestamp !== undefined && object.metadata.deletionTimestamp !== null;
}

// net.JoinHostPort: IPv6 addresses in brackets.
function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function loadBalancerAddresses(ingress: readonly { ip?: string; hostname?: string }[] | undefined): string {
  const addresses = (ingress ?? []).map((entry) => entry.ip || entry.hostname || "").filter((address) => address !== "");
  return sortedUnique(addresses).join(",");
}

function serviceExternalIp(service: Service): string {
  const spec = service.spec;
  const external = spec?.externalIPs ?? [];
  switch (spec?.type) {
    case "ClusterIP":
    case "NodePort":
      return external.length > 0 ? external.join(",") : "<none>";
    case "LoadBalancer": {
      const balancer = loadBalancerAddresses(service.status?.loadBalancer?.ingress);
      if (external.length > 0) return [...(balancer === "" ? [] : balancer.split(",")), ...external].join(",");
      return balancer === "" ? "<pending>" : balancer;
    }
    case "ExternalName":
      return spec.externalName ?? "";
    default:
      return "<unknown>";
  }
}

export function serviceRow(service: Service, nowMs: number): RowCells {
  const spec = service.spec;
  const ports = (spec?.ports ?? [])
    .map((port) => (port.nodePort ? `${port.port}:${port.nodePort}/${port.protocol ?? ""}` : `${port.port}/${port.protocol ?? ""}`))
    .join(",");
  return {
    cells: [
      service.metadata.name ?? "",
      spec?.type ?? "",
      spec?.clusterIPs?.[0] ?? "<none>",
      serviceExternalIp(service),
      ports === "" ? "<none>" : ports,
      age(service, nowMs),
      formatLabels(spec?.selector),
    ],
  };
}

/** upstream's formatEndpoints: up to three `ip:port`, then `+ N more...`; `<none>` without subsets. */
export function formatEndpoints(endpoints: Endpoints): string {
  const subsets = endpoints.subsets ?? [];
  if (subsets.length === 0) return "<none>";
  const listed: string[] = [];
  let count = 0;
  let more = false;
  const add = (text: string) => {
    if (listed.length === cellItemsMax) more = true;
    else listed.push(text);
  };
  for (const subset of subsets) {
    const addresses = subset.addresses ?? [];
    const ports = subset.ports ?? [];
    if (ports.length === 0) {
      count += addresses.length;
      addresses.forEach((address) => add(address.ip));
      continue;
    }
    for (const port of ports) {
      count += addresses.length;
      addresses.forEach((address) => add(joinHostPort(address.ip, port.port)));
    }
  }
  const text = listed.join(",");
  return more ? `${text} + ${count - cellItemsMax} more...` : text;
}

export function endpointsRow(endpoints: Endpoints, nowMs: number): RowCells {
  return { cells: [endpoints.metadata.name ?? "", formatEndpoints(endpoints), age(endpoints, nowMs)] };
}

function nodeRoles(node: Node): string {
  const roles: string[] = [];
  for (const [key, value] of Object.entries(node.metadata.labels ?? {})) {
    if (key.startsWith("node-role.kubernetes.io/") && key.length > "node-role.kubernetes.io/".length) roles.push(key.slice("node-role.kubernetes.io/".length));
    else if (key === "kubernetes.io/role" && value !== "") roles.push(value);
  }
  const text = sortedUnique(roles).join(",");
  return text === "" ? "<none>" : text;
}

function nodeStatus(node: Node): string {
  const ready = (node.status?.conditions ?? []).filter((condition) => condition.type === "Ready").at(-1);
  const status = ready === undefined ? ["Unknown"] : [ready.status === "True" ? "Ready" : "NotReady"];
  if (node.spec?.unschedulable === true) status.push("SchedulingDisabled");
  return status.join(",");
}

function nodeAddress(node: Node, type: "InternalIP" | "ExternalIP"): string {
  return node.status?.addresses?.find((address) => address.type === type)?.address ?? "<none>";
}

export function nodeRow(node: Node, nowMs: number): RowCells {
  const info = node.status?.nodeInfo;
  return {
    cells: [
      node.metadata.name ?? "",
      nodeStatus(node),
      nodeRoles(node),
      age(node, nowMs),
      info?.kubeletVersion ?? "",
      nodeAddress(node, "InternalIP"),
      nodeAddress(node, "ExternalIP"),
      info?.osImage || "<unknown>",
      info?.kernelVersion || "<unknown>",
      info?.containerRuntimeVersion || "<unknown>",
    ],
  };
}

function eventSource(event: Event): string {
  const component = event.source?.component || event.reportingComponent || "";
  const instance = event.source?.host || event.reportingInstance || "";
  return instance === "" ? component : `${component}, ${instance}`;
}

export function eventRow(event: Event, nowMs: number): RowCells {
  const first = parseTime(event.firstTimestamp) === undefined ? translateTimestampSince(event.eventTime, nowMs) : translateTimestampSince(event.firstTimestamp, nowMs);
  let last = parseTime(event.lastTimestamp) === undefined ? first : translateTimestampSince(event.lastTimestamp, nowMs);
  let count = event.count ?? 0;
  if (event.series !== undefined) {
    last = translateTimestampSince(event.series.lastObservedTime, nowMs);
    count = event.series.count ?? 0;
  } else if (count === 0) {
    // Singleton events of the events.k8s.io API carry no count.
    count = 1;
  }
  const kind = (event.involvedObject?.kind ?? "").toLowerCase();
  const name = event.involvedObject?.name ?? "";
  const target = name === "" ? kind : `${kind}/${name}`;
  const message = (event.message ?? "").trim();
  return {
    cells: [last, event.type ?? "", event.reason ?? "", target, event.involvedObject?.fieldPath ?? "", eventSource(event), message, first, count, event.metadata.name ?? ""],
  };
}

export function namespaceRow(namespace: Namespace, nowMs: number): RowCells {
  return { cells: [namespace.metadata.name ?? "", namespace.status?.phase ?? "", age(namespace, nowMs)] };
}

export function secretRow(secret: Secret, nowMs: number): RowCells {
  return { cells: [secret.metadata.name ?? "", secret.type ?? "", Object.keys(secret.data ?? {}).length, age(secret, nowMs)] };
}

export function serviceAccountRow(account: ServiceAccount, nowMs: number): RowCells {
  return { cells: [account.metadata.name ?? "", account.secrets?.length ?? 0, age(account, nowMs)] };
}

export function configMapRow(configMap: ConfigMap, nowMs: number): RowCells {
  const count = Object.keys(configMap.data ?? {}).length + Object.keys(configMap.binaryData ?? {}).length;
  return { cells: [configMap.metadata.name ?? "", count, age(configMap, nowMs)] };
}

const accessModeShortNames: readonly [PersistentVolumeAccessMode, string][] = [
  ["ReadWriteOnce", "RWO"],
  ["ReadOnlyMany", "ROX"],
  ["ReadWriteMany", "RWX"],
  ["ReadWriteOncePod", "RWOP"],
];

/** upstream's GetAccessModesAsString: `RWO,ROX`, always in this order, duplicates dropped. */
export function accessModesText(modes: readonly PersistentVolumeAccessMode[] | undefined): string {
  return accessModeShortNames
    .filter(([mode]) => (modes ?? []).includes(mode))
    .map(([, short]) => short)
    .join(",");
}

// The beta annotation, when set, wins over spec.storageClassName (upstream's helpers).
const storageClassAnnotation = "volume.beta.kubernetes.io/storage-class";

export function persistentVolumeRow(volume: PersistentVolume, nowMs: number): RowCells {
  const spec = volume.spec;
  const claim = spec?.claimRef === undefined ? "" : `${spec.claimRef.namespace ?? ""}/${spec.claimRef.name ?? ""}`;
  const storageClass = volume.metadata.annotations?.[storageClassAnnotation] ?? spec?.storageClassName ?? "";
  return {
    cells: [
      volume.metadata.name ?? "",
      quantityCell(spec?.capacity, "storage"),
      accessModesText(spec?.accessModes),
      spec?.persistentVolumeReclaimPolicy ?? "",
      isDeleting(volume) ? "Terminating" : (volume.status?.phase ?? ""),
      claim,
      storageClass,
      spec?.volumeAttributesClassName ?? "<unset>",
      volume.status?.reason ?? "",
      age(volume, nowMs),
      spec?.volumeMode ?? "<unset>",
    ],
  };
}

export function persistentVolumeClaimRow(claim: PersistentVolumeClaim, nowMs: number): RowCells {
  const spec = claim.spec;
  const bound = (spec?.volumeName ?? "") !== "";
  const storageClass = claim.metadata.annotations?.[storageClassAnnotation] ?? spec?.storageClassName ?? "";
  return {
    cells: [
      claim.metadata.name ?? "",
      isDeleting(claim) ? "Terminating" : (claim.status?.phase ?? ""),
      spec?.volumeName ?? "",
      bound ? quantityCell(claim.status?.capacity, "storage") : "",
      bound ? accessModesText(claim.status?.accessModes) : "",
      storageClass,
      spec?.volumeAttributesClassName ?? "<unset>",
      age(claim, nowMs),
      spec?.volumeMode ?? "<unset>",
    ],
  };
}

export function resourceQuotaRow(quota: ResourceQuota, nowMs: number): RowCells {
  const hard = quota.status?.hard ?? {};
  const requests: string[] = [];
  const limits: string[] = [];
  for (const resource of Object.keys(hard).sort(compareStrings)) {
    const text = `${resource}: ${quantityCell(quota.status?.used, resource)}/${quantityCell(hard, resource)}`;
    // Resources named limits.* go to the Limit column.
    const pieces = resource.split(".");
    if (pieces.length > 1 && pieces[0] === "limits") limits.push(text);
    else requests.push(text);
  }
  return { cells: [quota.metadata.name ?? "", requests.join(", "), limits.join(", "), age(quota, nowMs)] };
}

export function podTemplateRow(template: PodTemplate): RowCells {
  const [names, images] = containerCells(template.template?.spec?.containers);
  return { cells: [template.metadata.name ?? "", names, images, formatLabels(template.template?.metadata?.labels)] };
}
