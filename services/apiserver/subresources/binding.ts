/**
 * pods/binding (`POST .../pods/<name>/binding` with a Binding, what the scheduler sends): sets the
 * pod's spec.nodeName once, with upstream's PodScheduled condition; 409 when the pod is already
 * bound or being deleted, in upstream's words.
 */
import { newBadRequest, newConflict } from "../../../libs/api/status-errors.ts";
import { keyOf, type HandlerContext } from "../context.ts";
import { writeJson } from "../http.ts";
import { metadataOf, recordOf } from "../object-meta.ts";
import { readObjectBody } from "../rest-write.ts";
import type { StoredObject } from "../storage/index.ts";

const bindingResource = { group: "", resource: "pods/binding" };

function targetNode(context: HandlerContext, body: unknown): string {
  const binding = recordOf(body);
  const name = String(recordOf(binding["metadata"])["name"] ?? context.request.name);
  if (name !== context.request.name) throw newBadRequest("name in URL does not match name in Binding object");
  const target = recordOf(binding["target"]);
  const kind = String(target["kind"] ?? "");
  if (kind !== "" && kind !== "Node") throw newBadRequest(`Binding target kind must be Node, not ${JSON.stringify(kind)}`);
  const node = String(target["name"] ?? "");
  if (node === "") throw newBadRequest("Binding target name (the node) is required");
  return node;
}

function bound(context: HandlerContext, pod: StoredObject, node: string, annotations: Record<string, unknown>): StoredObject {
  const name = context.request.name;
  if ((metadataOf(pod).deletionTimestamp ?? null) !== null) throw newConflict(bindingResource, name, `pod ${name} is being deleted, cannot be assigned to a host`);
  const spec = recordOf(pod["spec"]);
  const current = String(spec["nodeName"] ?? "");
  if (current !== "") throw newConflict(bindingResource, name, `pod ${name} is already assigned to node "${current}"`);
  const status = recordOf(pod["status"]);
  const conditions = (Array.isArray(status["conditions"]) ? (status["conditions"] as Record<string, unknown>[]) : []).filter((condition) => condition["type"] !== "PodScheduled");
  const now = new Date(Math.floor(context.nowMs() / 1000) * 1000).toISOString().replace(".000Z", "Z");
  const metadata = { ...metadataOf(pod), annotations: { ...(metadataOf(pod).annotations ?? {}), ...annotations } };
  return {
    ...pod,
    metadata,
    spec: { ...spec, nodeName: node },
    status: { ...status, conditions: [...conditions, { type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: now }] },
  };
}

export async function handleBinding(context: HandlerContext): Promise<void> {
  const body = await readObjectBody(context);
  const node = targetNode(context, body);
  const annotations = recordOf(recordOf(recordOf(body)["metadata"])["annotations"]);
  await context.cacher.update(keyOf(context), (pod) => bound(context, pod, node, annotations));
  writeJson(context.response, 201, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 });
}
