/**
 * meta.k8s.io/v1 shapes (k8s.io/apimachinery pkg/apis/meta/v1) as plain JSON: the fields every
 * object carries, lists, Status, Table, watch events and discovery documents. Field names are
 * upstream's; optional fields are the ones upstream omits when empty. Times are RFC 3339 strings
 * (MicroTime has microseconds); quantities are strings (see quantity.ts).
 */
import type { JsonObject, JsonValue, ManagedFieldsEntry } from "../patch/index.ts";

/** RFC 3339 time, second precision, UTC: `2024-05-01T12:00:00Z`. Zero times serialise as null. */
export type Time = string;
/** RFC 3339 time with microseconds: `2024-05-01T12:00:00.000000Z`. */
export type MicroTime = string;
/** An int or a string (intstr.IntOrString): `80`, `"http"`, `"25%"`. */
export type IntOrString = number | string;
/** A resource quantity in upstream's string form: `100m`, `1Gi`. */
export type QuantityString = string;
/** ResourceList: resource name to quantity. */
export type ResourceList = Record<string, QuantityString>;

export interface TypeMeta {
  apiVersion?: string;
  kind?: string;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  selfLink?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: Time | null;
  deletionTimestamp?: Time | null;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
}

export interface ListMeta {
  selfLink?: string;
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

/** Any object with metadata: what generic code (storage, printers, selectors) handles. */
export interface KubeObject extends TypeMeta {
  metadata: ObjectMeta;
}

/** A list of objects (`PodList`, ...): kind is the item kind plus "List". */
export interface List<T> extends TypeMeta {
  metadata: ListMeta;
  items: T[];
}

export type LabelSelectorOperator = "In" | "NotIn" | "Exists" | "DoesNotExist";

export interface LabelSelectorRequirement {
  key: string;
  operator: LabelSelectorOperator;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type ConditionStatus = "True" | "False" | "Unknown";

/** metav1.Condition, used by newer APIs (Service, PodDisruptionBudget status). */
export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  lastTransitionTime: Time;
  reason: string;
  message: string;
}

export type StatusReason =
  | ""
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Gone"
  | "Invalid"
  | "ServerTimeout"
  | "StoreReadError"
  | "Timeout"
  | "TooManyRequests"
  | "BadRequest"
  | "MethodNotAllowed"
  | "NotAcceptable"
  | "RequestEntityTooLarge"
  | "UnsupportedMediaType"
  | "InternalError"
  | "Expired"
  | "ServiceUnavailable";

export interface StatusCause {
  /** A FieldErrorType for Invalid, or other cause types ("FieldManagerConflict", ...). */
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  /** For most errors this is the resource (plural), as upstream fills it. */
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: ListMeta;
  status?: "Success" | "Failure";
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code?: number;
}

export interface Preconditions {
  uid?: string;
  resourceVersion?: string;
}

export type DeletionPropagation = "Orphan" | "Background" | "Foreground";

export interface DeleteOptions extends TypeMeta {
  gracePeriodSeconds?: number;
  preconditions?: Preconditions;
  orphanDependents?: boolean;
  propagationPolicy?: DeletionPropagation;
  dryRun?: string[];
  ignoreStoreReadErrorWithClusterBreakingPotential?: boolean;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

/** One line of a watch stream; `object` is a Status for ERROR events. */
export interface WatchEvent<T = KubeObject> {
  type: WatchEventType;
  object: T | Status;
}

export interface TableColumnDefinition {
  name: string;
  type: "integer" | "number" | "string" | "boolean" | "date";
  format: string;
  description: string;
  priority: number;
}

export interface TableRowCondition {
  type: "Completed";
  status: ConditionStatus;
  reason?: string;
  message?: string;
}

/** A cell: what upstream's printers put there (strings, integers, booleans). */
export type TableCell = string | number | boolean | null;

export interface TableRow {
  cells: TableCell[];
  conditions?: TableRowCondition[];
  /** Per includeObject: PartialObjectMetadata (the default), the whole object, or null (None). */
  object?: JsonObject | null;
}

export interface Table {
  kind: "Table";
  apiVersion: "meta.k8s.io/v1";
  metadata: ListMeta;
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

export interface PartialObjectMetadata {
  kind: "PartialObjectMetadata";
  apiVersion: "meta.k8s.io/v1";
  metadata: ObjectMeta;
}

export interface APIResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  group?: string;
  version?: string;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  storageVersionHash?: string;
}

export interface APIResourceList {
  kind: "APIResourceList";
  apiVersion: "v1";
  groupVersion: string;
  resources: APIResource[];
}

export interface GroupVersionForDiscovery {
  groupVersion: string;
  version: string;
}

export interface APIGroup {
  kind?: "APIGroup";
  apiVersion?: "v1";
  name: string;
  versions: GroupVersionForDiscovery[];
  preferredVersion?: GroupVersionForDiscovery;
}

export interface APIGroupList {
  kind: "APIGroupList";
  apiVersion: "v1";
  groups: APIGroup[];
}

export interface ServerAddressByClientCIDR {
  clientCIDR: string;
  serverAddress: string;
}

export interface APIVersions {
  kind: "APIVersions";
  versions: string[];
  serverAddressByClientCIDRs: ServerAddressByClientCIDR[];
}

/** runtime.RawExtension: an embedded object (ControllerRevision data). */
export type RawExtension = JsonValue;
