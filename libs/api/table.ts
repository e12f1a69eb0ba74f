/**
 * Server-side printing (meta.k8s.io/v1 Table), as kubectl asks for with
 * `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`: upstream's columns and cells per
 * resource, the wide (priority 1) columns always included as upstream's server does, and
 * `Name`/`Created At` for resources without a printer. Pure: `nowMs` gives the ages.
 */
import { formatTime, parseTime } from "./duration.ts";
import type { JsonObject } from "./patch/index.ts";
import { ingressClassRow, ingressRow, endpointSliceRow, leaseRow, roleBindingRow, scaleRow, storageClassRow } from "./table-cluster.ts";
import { columnsFor, defaultColumns, scaleColumns } from "./table-columns.ts";
import {
  configMapRow,
  endpointsRow,
  eventRow,
  namespaceRow,
  nodeRow,
  persistentVolumeClaimRow,
  persistentVolumeRow,
  podTemplateRow,
  resourceQuotaRow,
  secretRow,
  serviceAccountRow,
  serviceRow,
} from "./table-core.ts";
import type { RowCells } from "./table-pod.ts";
import { podRow } from "./table-pod.ts";
import {
  controllerRevisionRow,
  cronJobRow,
  daemonSetRow,
  deploymentRow,
  horizontalPodAutoscalerRow,
  jobRow,
  podDisruptionBudgetRow,
  replicaSetRow,
  replicationControllerRow,
  statefulSetRow,
} from "./table-workloads.ts";
import type { KubeObject, ListMeta, PartialObjectMetadata, Table, TableColumnDefinition, TableRow } from "./types/meta.ts";

export type IncludeObjectPolicy = "None" | "Metadata" | "Object";

export interface TableOptions {
  /** The current time, for the ages (milliseconds since the epoch). */
  readonly nowMs: number;
  /** `?includeObject=`: what each row's `object` holds; default Metadata (PartialObjectMetadata). */
  readonly includeObject?: IncludeObjectPolicy;
  /** TableOptions.noHeaders: leave the column definitions out. */
  readonly noHeaders?: boolean;
}

// Each printer reads its own resource's shape; the dispatcher guarantees the match.
type RowPrinter = (object: never, nowMs: number) => RowCells;

const printers: ReadonlyMap<string, RowPrinter> = new Map<string, RowPrinter>([
  ["pods.", podRow],
  ["podtemplates.", podTemplateRow],
  ["services.", serviceRow],
  ["endpoints.", endpointsRow],
  ["nodes.", nodeRow],
  ["events.", eventRow],
  ["namespaces.", namespaceRow],
  ["secrets.", secretRow],
  ["serviceaccounts.", serviceAccountRow],
  ["configmaps.", configMapRow],
  ["persistentvolumes.", persistentVolumeRow],
  ["persistentvolumeclaims.", persistentVolumeClaimRow],
  ["resourcequotas.", resourceQuotaRow],
  ["deployments.apps", deploymentRow],
  ["replicasets.apps", replicaSetRow],
  ["replicationcontrollers.", replicationControllerRow],
  ["statefulsets.apps", statefulSetRow],
  ["daemonsets.apps", daemonSetRow],
  ["controllerrevisions.apps", controllerRevisionRow],
  ["jobs.batch", jobRow],
  ["cronjobs.batch", cronJobRow],
  ["horizontalpodautoscalers.autoscaling", horizontalPodAutoscalerRow],
  ["poddisruptionbudgets.policy", podDisruptionBudgetRow],
  ["ingresses.networking.k8s.io", ingressRow],
  ["ingressclasses.networking.k8s.io", ingressClassRow],
  ["leases.coordination.k8s.io", leaseRow],
  ["endpointslices.discovery.k8s.io", endpointSliceRow],
  ["storageclasses.storage.k8s.io", storageClassRow],
  ["rolebindings.rbac.authorization.k8s.io", roleBindingRow],
  ["clusterrolebindings.rbac.authorization.k8s.io", roleBindingRow],
  // The scale subresource's body (autoscaling/v1 Scale).
  ["scale.autoscaling", scaleRow],
]);

const goZeroTime = "0001-01-01T00:00:00Z";

// upstream's default convertor: the name and the creation time as RFC 3339 in UTC.
function defaultRow(object: KubeObject): RowCells {
  const createdMs = parseTime(object.metadata.creationTimestamp);
  return { cells: [object.metadata.name ?? "", createdMs === undefined ? goZeroTime : formatTime(createdMs)] };
}

/** The columns of a resource's table, wide ones included. */
export function tableColumns(group: string, resource: string): TableColumnDefinition[] {
  if (resource === "scale" && group === "autoscaling") return scaleColumns;
  return columnsFor(group, resource) ?? defaultColumns;
}

function rowObject(object: KubeObject, policy: IncludeObjectPolicy): JsonObject | null {
  if (policy === "None") return null;
  if (policy === "Object") return object as unknown as JsonObject;
  const partial: PartialObjectMetadata = { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: object.metadata };
  return partial as unknown as JsonObject;
}

/** One object's row: its cells, row conditions (finished pods) and object per `includeObject`. */
export function tableRow(group: string, resource: string, object: KubeObject, options: TableOptions): TableRow {
  const printer = printers.get(`${resource}.${group}`) as ((object: KubeObject, nowMs: number) => RowCells) | undefined;
  const { cells, conditions } = printer === undefined ? defaultRow(object) : printer(object, options.nowMs);
  const row: TableRow = { cells };
  if (conditions !== undefined) row.conditions = conditions;
  row.object = rowObject(object, options.includeObject ?? "Metadata");
  return row;
}

function tableMetadata(listMeta: ListMeta): ListMeta {
  const metadata: ListMeta = {};
  if (listMeta.resourceVersion) metadata.resourceVersion = listMeta.resourceVersion;
  if (listMeta.continue) metadata.continue = listMeta.continue;
  if (listMeta.remainingItemCount !== undefined) metadata.remainingItemCount = listMeta.remainingItemCount;
  return metadata;
}

/** The Table for a list: one row per item, the list's resourceVersion and continue token. */
export function listTable(group: string, resource: string, items: readonly KubeObject[], listMeta: ListMeta, options: TableOptions): Table {
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: tableMetadata(listMeta),
    columnDefinitions: options.noHeaders === true ? [] : tableColumns(group, resource),
    rows: items.map((item) => tableRow(group, resource, item, options)),
  };
}

/** The Table for one object (a GET of one name), carrying the object's resourceVersion. */
export function objectTable(group: string, resource: string, object: KubeObject, options: TableOptions): Table {
  return listTable(group, resource, [object], { resourceVersion: object.metadata.resourceVersion ?? "" }, options);
}
