/** meta/v1 and the shared scalars (IntOrString, Quantity, Time): what every object is built from. */
import { bool, int64, map, packageBuilder, packages, raw, ref, required, scalar, str, stringMap, strings, list, type Definition } from "./dsl.ts";

const meta = packageBuilder(packages.meta);

export const timeName = `${packages.meta}.Time`;
export const microTimeName = `${packages.meta}.MicroTime`;
export const intOrStringName = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
export const quantityName = "io.k8s.apimachinery.pkg.api.resource.Quantity";

export const time = ref(timeName);
export const microTime = ref(microTimeName);
export const intOrString = ref(intOrStringName);
export const quantity = ref(quantityName);
export const resourceList = map(quantity);
export const objectMeta = meta.ref("ObjectMeta");
export const labelSelector = meta.ref("LabelSelector");
export const metaCondition = meta.ref("Condition");

export const metaDefinitions: readonly Definition[] = [
  scalar(timeName, "A timestamp in RFC 3339 form, second precision (2024-05-01T12:00:00Z).", "time"),
  scalar(microTimeName, "A timestamp in RFC 3339 form with microseconds.", "micro-time"),
  scalar(intOrStringName, "Either an integer or a string (a port number or name, a count or a percentage).", "int-or-string"),
  scalar(quantityName, "A fixed-point amount with an optional suffix: 100m, 1.5, 2Gi, 1e3.", "quantity"),
  meta.def("ObjectMeta", "Metadata every persisted object carries.", {
    name: [str, "Unique name within the namespace; cannot be changed after creation."],
    generateName: [str, "Prefix for a server-generated unique name, used when name is empty."],
    namespace: [str, "The namespace the object lives in; empty for cluster-scoped objects."],
    selfLink: [str, "Deprecated; always empty."],
    uid: [str, "Unique identifier over the object's lifetime, set by the server."],
    resourceVersion: [str, "Opaque version of this object, for optimistic concurrency and watches."],
    generation: [int64, "Sequence number of the desired state, set by the server."],
    creationTimestamp: [time, "When the object was created, set by the server."],
    deletionTimestamp: [time, "When the object will be deleted; set when deletion is requested."],
    deletionGracePeriodSeconds: [int64, "Seconds the object has to terminate gracefully before removal."],
    labels: [stringMap, "Key/value pairs for selecting and organising objects."],
    annotations: [stringMap, "Arbitrary non-identifying key/value metadata."],
    ownerReferences: [list(meta.ref("OwnerReference")), "Objects this one depends on; it is garbage-collected after them."],
    finalizers: [strings, "Conditions that must clear before the object is removed from storage."],
    managedFields: [list(meta.ref("ManagedFieldsEntry")), "Which manager owns which fields (server-side apply)."],
  }),
  meta.def("OwnerReference", "Identifies an owning object.", {
    apiVersion: [str, "API version of the owner.", required],
    kind: [str, "Kind of the owner.", required],
    name: [str, "Name of the owner.", required],
    uid: [str, "UID of the owner.", required],
    controller: [bool, "True when the owner is the managing controller."],
    blockOwnerDeletion: [bool, "When true, the owner cannot be deleted before this object (foreground deletion)."],
  }),
  meta.def("ManagedFieldsEntry", "The fields one manager owns, from one operation.", {
    manager: [str, "Name of the workflow managing the fields."],
    operation: [str, "Apply or Update."],
    apiVersion: [str, "Version of the fieldset's schema."],
    time: [time, "When the entry last changed."],
    fieldsType: [str, "Format of fieldsV1; only FieldsV1."],
    fieldsV1: [raw, "The set of owned fields."],
    subresource: [str, "The subresource the update went through, or empty."],
  }),
  meta.def("LabelSelector", "A query over labels; the requirements are ANDed. Empty selects everything.", {
    matchLabels: [stringMap, "Labels that must be present with these values."],
    matchExpressions: [list(meta.ref("LabelSelectorRequirement")), "Set-based requirements."],
  }),
  meta.def("LabelSelectorRequirement", "A key, an operator and values.", {
    key: [str, "The label key.", required],
    operator: [str, "In, NotIn, Exists or DoesNotExist.", required],
    values: [strings, "Values for In and NotIn; empty for Exists and DoesNotExist."],
  }),
  meta.def("Condition", "One aspect of an object's current state.", {
    type: [str, "Condition type in CamelCase.", required],
    status: [str, "True, False or Unknown.", required],
    observedGeneration: [int64, "The generation the condition was set from."],
    lastTransitionTime: [time, "When the status last changed.", required],
    reason: [str, "Machine-readable CamelCase reason for the last transition.", required],
    message: [str, "Human-readable detail.", required],
  }),
  meta.def("DeleteOptions", "Options of a delete request.", {
    apiVersion: [str, "Versioned schema of this representation."],
    kind: [str, "DeleteOptions."],
    gracePeriodSeconds: [int64, "Seconds before the object is deleted; 0 deletes now."],
    preconditions: [meta.ref("Preconditions"), "Must be fulfilled before deletion."],
    orphanDependents: [bool, "Deprecated; use propagationPolicy."],
    propagationPolicy: [str, "Orphan, Background or Foreground garbage collection."],
    dryRun: [strings, "All: process the request without persisting it."],
    ignoreStoreReadErrorWithClusterBreakingPotential: [bool, "Delete objects that cannot be read from storage."],
  }),
  meta.def("Preconditions", "Must be true before an operation runs.", {
    uid: [str, "Target UID."],
    resourceVersion: [str, "Target resourceVersion."],
  }),
];
