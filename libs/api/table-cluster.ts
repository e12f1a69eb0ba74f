/**
 * Table rows of the networking, coordination, discovery, storage and RBAC resources and of the
 * Scale subresource, as upstream's printers fill them. Wide cells are always included.
 */
import { sortedUnique } from "./go-format.ts";
import { age, cellItemsMax } from "./table-core.ts";
import type { RowCells } from "./table-pod.ts";
import type { ClusterRoleBinding, EndpointSlice, Ingress, IngressClass, Lease, RoleBinding, Scale, StorageClass, Subject } from "./types/cluster.ts";

function withMore(listed: readonly string[], more: boolean, count: number): string {
  const text = listed.join(",");
  if (more) return `${text} + ${count - cellItemsMax} more...`;
  return text === "" ? "<unset>" : text;
}

// upstream's formatHosts: three hosts at most, `*` when no rule names one.
function ingressHosts(ingress: Ingress): string {
  const rules = ingress.spec?.rules ?? [];
  const hosts: string[] = [];
  let more = false;
  for (const rule of rules) {
    if (hosts.length === cellItemsMax) more = true;
    if (!more && (rule.host ?? "") !== "") hosts.push(rule.host ?? "");
  }
  if (hosts.length === 0) return "*";
  return more ? `${hosts.join(",")} + ${rules.length - cellItemsMax} more...` : hosts.join(",");
}

export function ingressRow(ingress: Ingress, nowMs: number): RowCells {
  const addresses = (ingress.status?.loadBalancer?.ingress ?? []).map((entry) => entry.ip || entry.hostname || "").filter((address) => address !== "");
  return {
    cells: [
      ingress.metadata.name ?? "",
      ingress.spec?.ingressClassName ?? "<none>",
      ingressHosts(ingress),
      sortedUnique(addresses).join(","),
      (ingress.spec?.tls ?? []).length > 0 ? "80, 443" : "80",
      age(ingress, nowMs),
    ],
  };
}

export function ingressClassRow(ingressClass: IngressClass, nowMs: number): RowCells {
  const parameters = ingressClass.spec?.parameters;
  let text = "<none>";
  if (parameters !== undefined) {
    const kind = parameters.apiGroup === undefined ? parameters.kind : `${parameters.kind}.${parameters.apiGroup}`;
    text = `${kind}/${parameters.name}`;
  }
  return { cells: [ingressClass.metadata.name ?? "", ingressClass.spec?.controller ?? "", text, age(ingressClass, nowMs)] };
}

export function leaseRow(lease: Lease, nowMs: number): RowCells {
  return { cells: [lease.metadata.name ?? "", lease.spec?.holderIdentity ?? "", age(lease, nowMs)] };
}

export function endpointSliceRow(slice: EndpointSlice, nowMs: number): RowCells {
  const ports = slice.ports ?? [];
  const portTexts = ports.slice(0, cellItemsMax).map((port) => (port.port !== undefined ? String(port.port) : (port.name ?? "*")));
  const addresses = (slice.endpoints ?? []).flatMap((endpoint) => endpoint.addresses ?? []);
  return {
    cells: [
      slice.metadata.name ?? "",
      slice.addressType,
      withMore(portTexts, ports.length > cellItemsMax, ports.length),
      withMore(addresses.slice(0, cellItemsMax), addresses.length > cellItemsMax, addresses.length),
      age(slice, nowMs),
    ],
  };
}

const defaultClassAnnotations = ["storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class"];

export function storageClassRow(storageClass: StorageClass, nowMs: number): RowCells {
  const annotations = storageClass.metadata.annotations ?? {};
  const isDefault = defaultClassAnnotations.some((annotation) => annotations[annotation] === "true");
  const name = `${storageClass.metadata.name ?? ""}${isDefault ? " (default)" : ""}`;
  return {
    cells: [
      name,
      storageClass.provisioner,
      storageClass.reclaimPolicy ?? "Delete",
      storageClass.volumeBindingMode ?? "Immediate",
      storageClass.allowVolumeExpansion ?? false,
      age(storageClass, nowMs),
    ],
  };
}

// upstream's rbac.SubjectsStrings: users, groups and "namespace/name" service accounts.
function subjectColumns(subjects: readonly Subject[] | undefined): [string, string, string] {
  const list = subjects ?? [];
  const named = (kind: string) => list.filter((subject) => subject.kind === kind);
  return [
    named("User")
      .map((subject) => subject.name)
      .join(", "),
    named("Group")
      .map((subject) => subject.name)
      .join(", "),
    named("ServiceAccount")
      .map((subject) => `${subject.namespace ?? ""}/${subject.name}`)
      .join(", "),
  ];
}

export function roleBindingRow(binding: RoleBinding | ClusterRoleBinding, nowMs: number): RowCells {
  const [users, groups, serviceAccounts] = subjectColumns(binding.subjects);
  return { cells: [binding.metadata.name ?? "", `${binding.roleRef?.kind}/${binding.roleRef?.name}`, age(binding, nowMs), users, groups, serviceAccounts] };
}

export function scaleRow(scale: Scale, nowMs: number): RowCells {
  return { cells: [scale.metadata.name ?? "", scale.spec?.replicas ?? 0, scale.status?.replicas ?? 0, age(scale, nowMs)] };
}
