/**
 * The conditions upstream's namespace deleter writes on a Terminating namespace, with its types,
 * reasons and messages (`kubectl describe ns` and `kubectl get ns -o yaml` show them). Discovery
 * and group-version parsing cannot fail here (the resource list is libs/api's registry), so those
 * two are always False, as upstream reports them when they succeed.
 */
import { formatTime } from "../../../libs/api/index.ts";
import type { Namespace } from "../../../libs/api/index.ts";

export type NamespaceCondition = NonNullable<NonNullable<Namespace["status"]>["conditions"]>[number];

/** What one pass over a namespace's content found. */
export interface ContentReport {
  /** `<group resource>: <error>` per resource type whose list or delete failed. */
  readonly failures: string[];
  /** Objects still present (being deleted), per group resource (`configmaps`, `deployments.apps`). */
  readonly remaining: Map<string, number>;
  /** Finalizers those objects carry, with how many objects carry each. */
  readonly finalizers: Map<string, number>;
  /** The pass stopped at its delete bound. */
  deferred: boolean;
  /** Deletes sent in the pass. */
  deleted: number;
}

interface Shape {
  readonly type: string;
  readonly status: "True" | "False";
  readonly reason: string;
  readonly message: string;
}

function counted(entries: Map<string, number>, format: (key: string, count: number) => string): string {
  return [...entries.entries()]
    .map(([key, count]) => format(key, count))
    .sort()
    .join(", ");
}

function shapes(report: ContentReport): Shape[] {
  const failed = report.failures.length > 0;
  const remaining = report.remaining.size > 0;
  const finalizers = report.finalizers.size > 0;
  return [
    { type: "NamespaceDeletionDiscoveryFailure", status: "False", reason: "ResourcesDiscovered", message: "All resources successfully discovered" },
    { type: "NamespaceDeletionGroupVersionParsingFailure", status: "False", reason: "ParsedGroupVersions", message: "All legacy kube types successfully parsed" },
    failed
      ? { type: "NamespaceDeletionContentFailure", status: "True", reason: "ContentDeletionFailed", message: `Failed to delete all resource types, ${report.failures.length} remaining: ${[...report.failures].sort().join(", ")}` }
      : { type: "NamespaceDeletionContentFailure", status: "False", reason: "ContentDeleted", message: "All content successfully deleted, may be waiting on finalization" },
    remaining
      ? { type: "NamespaceContentRemaining", status: "True", reason: "SomeResourcesRemain", message: `Some resources are remaining: ${counted(report.remaining, (resource, count) => `${resource} has ${count} resource instances`)}` }
      : { type: "NamespaceContentRemaining", status: "False", reason: "ContentRemoved", message: "All content successfully removed" },
    finalizers
      ? { type: "NamespaceFinalizersRemaining", status: "True", reason: "SomeFinalizersRemain", message: `Some content in the namespace has finalizers remaining: ${counted(report.finalizers, (finalizer, count) => `${finalizer} in ${count} resource instances`)}` }
      : { type: "NamespaceFinalizersRemaining", status: "False", reason: "ContentHasNoFinalizers", message: "All content-preserving finalizers finished" },
  ];
}

/** The five conditions for `report`; a condition whose status is unchanged keeps its lastTransitionTime. */
export function conditionsFor(report: ContentReport, current: readonly NamespaceCondition[], nowMs: number): NamespaceCondition[] {
  return shapes(report).map((shape) => {
    const previous = current.find((condition) => condition.type === shape.type);
    const since = previous !== undefined && previous.status === shape.status && previous.lastTransitionTime !== undefined ? previous.lastTransitionTime : formatTime(nowMs);
    return { type: shape.type, status: shape.status, lastTransitionTime: since, reason: shape.reason, message: shape.message };
  });
}

/** Equal as far as a write is concerned: same types, statuses, reasons and messages. */
export function sameConditions(next: readonly NamespaceCondition[], current: readonly NamespaceCondition[]): boolean {
  if (next.length !== current.length) return false;
  return next.every((condition) => {
    const other = current.find((candidate) => candidate.type === condition.type);
    return other !== undefined && other.status === condition.status && other.reason === condition.reason && other.message === condition.message;
  });
}
