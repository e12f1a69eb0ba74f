/**
 * pods/eviction (policy/v1 Eviction, what `kubectl drain` sends): deletes the pod unless that
 * would break its PodDisruptionBudget, as upstream's eviction REST does. A pod that is not
 * running (Pending, Succeeded, Failed) or already being deleted goes without a budget check; with
 * one matching budget, the budget's status must say a disruption is allowed (then it is counted
 * there before the pod goes), else 429 "Cannot evict pod as it would violate the pod's
 * disruption budget." with the reason as a cause; more than one matching budget is a 500.
 */
import { labelSelectorAsSelector } from "../../../libs/api/labels.ts";
import { findResource } from "../../../libs/api/registry.ts";
import { newForbidden, newInternalError, newNotFound, newTooManyRequests, type StatusError } from "../../../libs/api/status-errors.ts";
import type { LabelSelector } from "../../../libs/api/types/meta.ts";
import { keyOf, type HandlerContext } from "../context.ts";
import { writeJson } from "../http.ts";
import { metadataOf, recordOf } from "../object-meta.ts";
import { readObjectBody } from "../rest-write.ts";
import { NotFoundError, namespacePrefix, objectKey, type StoredObject } from "../storage/index.ts";

/** upstream's MaxDisruptedPodSize: a budget tracks at most this many pods being evicted. */
export const disruptedPodsMax = 2000;
export const violationMessage = "Cannot evict pod as it would violate the pod's disruption budget.";

function budgetRefusal(cause: string): StatusError {
  const error = newTooManyRequests(violationMessage, 0);
  error.status.details = { ...(error.status.details ?? {}), causes: [{ reason: "DisruptionBudget", message: cause }] };
  return error;
}

function ignoresBudgets(pod: StoredObject): boolean {
  const phase = String(recordOf(pod["status"])["phase"] ?? "Pending");
  return ["Pending", "Succeeded", "Failed"].includes(phase) || (metadataOf(pod).deletionTimestamp ?? null) !== null;
}

async function matchingBudgets(context: HandlerContext, pod: StoredObject): Promise<StoredObject[]> {
  const info = findResource("policy", "v1", "poddisruptionbudgets");
  if (info === undefined) return [];
  const listed = await context.storages.cacherFor(info).list(namespacePrefix({ group: "policy", resource: "poddisruptionbudgets" }, context.request.namespace));
  const labels = metadataOf(pod).labels ?? {};
  return listed.items.filter((budget) => {
    const selector = recordOf(budget["spec"])["selector"] as LabelSelector | undefined;
    try {
      // policy/v1: no selector selects no pods, an empty one every pod in the namespace.
      return labelSelectorAsSelector(selector).matches(labels);
    } catch {
      return false;
    }
  });
}

/** Counts one disruption in the budget's status, or refuses as upstream's checkAndDecrement does. */
function decremented(budget: StoredObject, podName: string, nowIso: string): StoredObject {
  const name = metadataOf(budget).name ?? "";
  const status = recordOf(budget["status"]);
  const observed = Number(status["observedGeneration"] ?? 0);
  if (observed < Number(metadataOf(budget).generation ?? 0)) throw budgetRefusal(`The disruption budget ${name} is still being processed by the server.`);
  const allowed = Number(status["disruptionsAllowed"] ?? 0);
  if (allowed < 0) throw newForbidden({ group: "policy", resource: "poddisruptionbudgets" }, name, "pdb disruptions allowed is negative");
  const disrupted = recordOf(status["disruptedPods"]);
  if (Object.keys(disrupted).length > disruptedPodsMax) throw newForbidden({ group: "policy", resource: "poddisruptionbudgets" }, name, "DisruptedPods map too big - too many evictions not confirmed by PDB controller");
  if (allowed === 0) {
    throw budgetRefusal(`The disruption budget ${name} needs ${Number(status["desiredHealthy"] ?? 0)} healthy pods and has ${Number(status["currentHealthy"] ?? 0)} currently`);
  }
  return { ...budget, status: { ...status, disruptionsAllowed: allowed - 1, disruptedPods: { ...disrupted, [podName]: nowIso } } };
}

async function chargeBudget(context: HandlerContext, pod: StoredObject): Promise<void> {
  const budgets = await matchingBudgets(context, pod);
  if (budgets.length === 0) return;
  if (budgets.length > 1) throw newInternalError("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
  const info = findResource("policy", "v1", "poddisruptionbudgets");
  const budget = budgets[0];
  if (info === undefined || budget === undefined) return;
  const nowIso = new Date(Math.floor(context.nowMs() / 1000) * 1000).toISOString().replace(".000Z", "Z");
  const key = objectKey({ group: "policy", resource: "poddisruptionbudgets" }, context.request.namespace, metadataOf(budget).name ?? "");
  // Guarded by the budget's resourceVersion: two evictions racing for the last disruption cannot both win.
  await context.storages.cacherFor(info).update(key, (current) => decremented(current, context.request.name, nowIso), { expectedResourceVersion: metadataOf(budget).resourceVersion });
}

export async function handleEviction(context: HandlerContext): Promise<void> {
  await readObjectBody(context);
  const key = keyOf(context);
  let pod: StoredObject;
  try {
    pod = await context.cacher.get(key);
  } catch (error) {
    if (error instanceof NotFoundError) throw newNotFound({ group: "", resource: "pods" }, context.request.name);
    throw error;
  }
  if (!ignoresBudgets(pod)) await chargeBudget(context, pod);
  await context.cacher.delete(key, { preconditions: { uid: metadataOf(pod).uid } });
  writeJson(context.response, 201, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 });
}
