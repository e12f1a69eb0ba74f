/**
 * The scale subresource (autoscaling/v1 Scale) of deployments, replica sets, stateful sets and
 * replication controllers:
 * GET reads spec.replicas, status.replicas and the selector; PUT and PATCH (merge, JSON, and
 * strategic, which for Scale's plain fields is a merge) write spec.replicas back to the object.
 * `kubectl scale` patches it.
 */
import { labelSelectorAsSelector, selectorFromSet } from "../../libs/api/labels.ts";
import { applyJsonPatch, applyMergePatch, type JsonObject, type JsonValue } from "../../libs/api/patch/index.ts";
import { newBadRequest, newConflictModified, newUnsupportedMediaType } from "../../libs/api/status-errors.ts";
import type { LabelSelector } from "../../libs/api/types/meta.ts";
import { keyOf, type HandlerContext } from "./context.ts";
import { writeJson } from "./http.ts";
import { metadataOf, recordOf } from "./object-meta.ts";
import { readObjectBody } from "./rest-write.ts";
import type { StoredObject } from "./storage/index.ts";

// A ReplicationController's selector is a plain label map; the apps kinds carry a LabelSelector.
function selectorText(kind: unknown, selector: unknown): string {
  try {
    if (kind === "ReplicationController") return selectorFromSet(selector as Record<string, string> | undefined).toString();
    return labelSelectorAsSelector(selector as LabelSelector | undefined).toString();
  } catch {
    return "";
  }
}

/** The Scale of an object, as upstream's scale subresource reports it. */
export function scaleOf(object: StoredObject): Record<string, unknown> {
  const metadata = metadataOf(object);
  const spec = recordOf(object["spec"]);
  const status = recordOf(object["status"]);
  const scaleMetadata: Record<string, unknown> = { name: metadata.name, namespace: metadata.namespace, uid: metadata.uid, resourceVersion: metadata.resourceVersion, creationTimestamp: metadata.creationTimestamp };
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: scaleMetadata,
    spec: { replicas: typeof spec["replicas"] === "number" ? spec["replicas"] : 0 },
    status: { replicas: typeof status["replicas"] === "number" ? status["replicas"] : 0, selector: selectorText(object["kind"], spec["selector"]) },
  };
}

function patchedScale(contentType: string, scale: Record<string, unknown>, patch: unknown): Record<string, unknown> {
  switch (contentType) {
    case "application/json-patch+json":
      return recordOf(applyJsonPatch(scale as JsonObject, patch as JsonValue));
    case "application/merge-patch+json":
    case "application/strategic-merge-patch+json":
      return recordOf(applyMergePatch(scale as JsonObject, patch as JsonValue));
    default:
      throw newUnsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`);
  }
}

function replicasOf(scale: Record<string, unknown>): number {
  const replicas = recordOf(scale["spec"])["replicas"];
  if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0) throw newBadRequest("spec.replicas: Invalid value: must be a non-negative integer");
  return replicas;
}

/** GET, PUT or PATCH of `<resource>/<name>/scale`. */
export async function handleScale(context: HandlerContext): Promise<void> {
  const key = keyOf(context);
  if (context.request.verb === "get") {
    writeJson(context.response, 200, scaleOf(await context.cacher.get(key)));
    return;
  }
  const body = await readObjectBody(context);
  const contentType = (context.http.headers["content-type"] ?? "").split(";")[0]?.trim() ?? "";
  const updated = await context.cacher.update(key, (current) => {
    const scale = scaleOf(current);
    const next = context.request.verb === "update" ? recordOf(body) : patchedScale(contentType, scale, body);
    const expected = String(recordOf(next["metadata"])["resourceVersion"] ?? "");
    if (expected !== "" && expected !== metadataOf(current).resourceVersion) throw newConflictModified({ group: context.info.group, resource: context.info.resource }, context.request.name);
    const replicas = replicasOf(next);
    const metadata = { ...metadataOf(current) };
    const previousReplicas = recordOf(current["spec"])["replicas"];
    if (previousReplicas !== replicas) metadata.generation = (metadata.generation ?? 1) + 1;
    delete metadata.resourceVersion;
    return { ...current, metadata, spec: { ...recordOf(current["spec"]), replicas } };
  });
  writeJson(context.response, 200, scaleOf(updated));
}
