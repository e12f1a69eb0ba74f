/**
 * create, update (PUT), patch and the status subresource over a resource's watch cache (writes go
 * to the store, guarded by mod revision). Patches: JSON patch, merge patch, strategic merge patch
 * (libs/api/patch, with the kind's built-in patch schema) and server-side apply.
 */
import { parse as parseYaml } from "yaml";
import { findSubresource, type ResourceInfo } from "../../libs/api/registry.ts";
import {
  ApplyConflictError,
  JsonPatchError,
  PatchFormatError,
  apply,
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  builtinSchema,
  deducedSchema,
  describeManager,
  toJsonObject,
  updateManagedFields,
  type JsonObject,
  type JsonValue,
} from "../../libs/api/patch/index.ts";
import { newApplyConflict, newBadRequest, newConflictModified, newMethodNotSupported, newNotFound, newUnsupportedMediaType, StatusError } from "../../libs/api/status-errors.ts";
import { keyOf, type HandlerContext } from "./context.ts";
import { readBody, writeJson } from "./http.ts";
import { checkTypeAndNamespace, metadataOf, prepareForCreate, prepareForUpdate, prepareStatusUpdate, recordOf } from "./object-meta.ts";
import { checkWrittenFields, parseJsonBody } from "./field-validation.ts";
import { decodeProtobufObject, ProtobufDecodeError } from "./protobuf.ts";
import { allocateOnCreate, dropTypeDependentOnUpdate } from "./allocator/hooks.ts";
import { checkObjectSize, guardedUpdate, isDryRun } from "./limits.ts";
import { keepManagedFieldsTimes } from "./managed-fields-times.ts";
import { checkAcceptsNewContent, handleNamespaceFinalize, isNamespaces, keepSpecFinalizers } from "./namespace-lifecycle.ts";
import { finishDeletionIfReleased } from "./rest-delete.ts";
import { NotFoundError, objectKey, type StoredObject } from "./storage/index.ts";

/** upstream's limit on a fieldManager name. */
const fieldManagerBytesMax = 128;

function nowIso(context: HandlerContext): string {
  return new Date(Math.floor(context.nowMs() / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** The body as a JSON object: JSON, or YAML when the content type says so. 400 when it is neither. */
export async function readObjectBody(context: HandlerContext): Promise<unknown> {
  const bytes = await readBody(context.http);
  const contentType = (context.http.headers["content-type"] ?? "application/json").split(";")[0]?.trim() ?? "";
  if (contentType === "application/vnd.kubernetes.protobuf") return protobufBody(bytes);
  if (contentType.includes("protobuf") || contentType.includes("cbor")) throw unsupportedBody();
  const body = bytes.toString("utf8");
  try {
    return contentType.endsWith("yaml") ? (parseYaml(body) as unknown) : parseJsonBody(context, body);
  } catch (error) {
    throw newBadRequest(`the body of the request was in an unknown format - accepted media types include: application/json, application/yaml: ${(error as Error).message}`);
  }
}

function unsupportedBody(): StatusError {
  return newUnsupportedMediaType("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml");
}

// kubectl's typed clients (create namespace, ...) send protobuf; Flotilla reads a few kinds of it.
function protobufBody(bytes: Buffer): unknown {
  try {
    const decoded = decodeProtobufObject(bytes);
    if (decoded === undefined) throw unsupportedBody();
    return decoded;
  } catch (error) {
    if (error instanceof ProtobufDecodeError) throw newBadRequest(error.message);
    throw error;
  }
}

function objectBody(value: unknown): StoredObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw newBadRequest("the body of the request must be a JSON object");
  return value as StoredObject;
}

/** The field manager: `fieldManager`, or (as upstream) the User-Agent's first segment. */
export function fieldManagerOf(context: HandlerContext, required: boolean): string {
  const explicit = context.query.get("fieldManager") ?? "";
  if (explicit.length > fieldManagerBytesMax) throw newBadRequest(`fieldManager: Too long: may not be more than ${fieldManagerBytesMax} bytes`);
  if (explicit !== "") return explicit;
  if (required) throw newBadRequest("PATCH, application/apply-patch+yaml requests must have a fieldManager query parameter");
  const agent = context.http.headers["user-agent"] ?? "unknown";
  return agent.split("/")[0]?.slice(0, fieldManagerBytesMax) || "unknown";
}

function track(context: HandlerContext, old: StoredObject | undefined, updated: StoredObject, subresource = ""): StoredObject {
  const options = { time: nowIso(context), subresource };
  return updateManagedFields(old as JsonObject | undefined, updated as JsonObject, fieldManagerOf(context, false), "Update", options) as StoredObject;
}

async function checkNamespaceExists(context: HandlerContext, objectName: string): Promise<void> {
  if (!context.info.namespaced) return;
  const namespace = context.request.namespace;
  const key = objectKey({ group: "", resource: "namespaces" }, undefined, namespace);
  try {
    checkAcceptsNewContent(context, await context.namespaces.get(key, { resourceVersion: "0" }), objectName);
    return;
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  // The cache may not have seen a namespace created a moment ago (its watch lags the store):
  // as upstream's NamespaceLifecycle admission does, confirm a miss with a consistent read.
  try {
    checkAcceptsNewContent(context, await context.namespaces.get(key, { resourceVersion: "" }), objectName);
  } catch (error) {
    if (error instanceof NotFoundError) throw newNotFound({ group: "", resource: "namespaces" }, namespace);
    throw error;
  }
}

async function createObject(context: HandlerContext, object: StoredObject): Promise<StoredObject> {
  await checkNamespaceExists(context, metadataOf(object).name ?? "");
  const prepared = checkObjectSize(prepareForCreate(context.info, checkTypeAndNamespace(context.info, object, context.request.namespace), nowIso(context)));
  const dryRun = isDryRun(context.query, "create");
  const allocation = await allocateOnCreate(context, prepared, dryRun);
  if (dryRun) return allocation.object;
  try {
    return await context.cacher.create(allocation.object);
  } catch (error) {
    await allocation.release();
    throw error;
  }
}

export async function handleCreate(context: HandlerContext): Promise<void> {
  if (context.request.subresource !== "") throw newMethodNotSupported(groupResource(context.info), "create");
  const body = checkWrittenFields(context, objectBody(await readObjectBody(context)));
  const created = await createObject(context, track(context, undefined, body));
  writeJson(context.response, 201, created);
}

function groupResource(info: ResourceInfo): { group: string; resource: string } {
  return { group: info.group, resource: info.resource };
}

function checkSubresource(context: HandlerContext, verb: string): boolean {
  const subresource = context.request.subresource;
  if (subresource === "") return false;
  if (subresource === "status" && findSubresource(context.info, "status") !== undefined) return true;
  throw newMethodNotSupported(groupResource(context.info), verb);
}

/** The stored form of `next` replacing `current` through the main resource or its status. */
function replacement(context: HandlerContext, next: StoredObject, current: StoredObject, status: boolean): StoredObject {
  const expected = metadataOf(next).resourceVersion ?? "";
  if (expected !== "" && expected !== metadataOf(current).resourceVersion) throw newConflictModified(groupResource(context.info), context.request.name);
  const typed = checkTypeAndNamespace(context.info, next, context.request.namespace);
  if ((metadataOf(typed).name ?? "") !== context.request.name) throw newBadRequest("the name of the object does not match the name on the URL");
  const stored = status ? prepareStatusUpdate(typed, current) : prepareForUpdate(context.info, dropTypeDependentOnUpdate(context, keepSpecFinalizers(context, typed, current), current), current, findSubresource(context.info, "status") !== undefined);
  return keepManagedFieldsTimes(current, track(context, current, stored, status ? "status" : ""));
}

export async function handleUpdate(context: HandlerContext): Promise<void> {
  if (isNamespaces(context) && context.request.subresource === "finalize") return handleNamespaceFinalize(context, async (updated) => finishDeletionIfReleased(context, updated));
  const status = checkSubresource(context, "update");
  const body = checkWrittenFields(context, objectBody(await readObjectBody(context)));
  const expectedResourceVersion = metadataOf(body).resourceVersion ?? "";
  const updated = await guardedUpdate(context, keyOf(context), (current) => replacement(context, body, current, status), {
    expectedResourceVersion: expectedResourceVersion === "" ? undefined : expectedResourceVersion,
  });
  writeJson(context.response, 200, await finishDeletionIfReleased(context, updated));
}

function patched(contentType: string, current: StoredObject, patch: unknown): StoredObject {
  const currentJson = current as JsonObject;
  try {
    switch (contentType) {
      case "application/json-patch+json":
        return objectBody(applyJsonPatch(currentJson, patch as JsonValue));
      case "application/merge-patch+json":
        return objectBody(applyMergePatch(currentJson, patch as JsonValue));
      case "application/strategic-merge-patch+json": {
        const schema = builtinSchema(String(current["apiVersion"]), String(current["kind"])) ?? deducedSchema;
        return applyStrategicMergePatch(currentJson, patch as JsonValue, schema) as StoredObject;
      }
      default:
        throw newUnsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
    }
  } catch (error) {
    if (error instanceof PatchFormatError || error instanceof JsonPatchError) throw newBadRequest(error.message);
    throw error;
  }
}

function applyConflict(error: ApplyConflictError): StatusError {
  const causes = error.conflicts.map((conflict) => ({ reason: "FieldManagerConflict" as const, message: `conflict with ${describeManager(conflict)}`, field: conflict.field }));
  return newApplyConflict(causes, error.message);
}

function serverSideApply(context: HandlerContext, live: StoredObject | undefined, applied: unknown, status: boolean): StoredObject {
  const manager = fieldManagerOf(context, true);
  const force = context.query.get("force") === "true";
  try {
    const options = { time: nowIso(context), subresource: status ? "status" : "", ...(status ? {} : findSubresource(context.info, "status") === undefined ? {} : { ignoredFields: [["status"]] }) };
    return apply(live as JsonObject | undefined, toJsonObject(applied as JsonValue, "applied configuration") as JsonValue, manager, force, options) as StoredObject;
  } catch (error) {
    if (error instanceof ApplyConflictError) throw applyConflict(error);
    if (error instanceof PatchFormatError) throw newBadRequest(error.message);
    throw error;
  }
}

export async function handlePatch(context: HandlerContext): Promise<void> {
  const status = checkSubresource(context, "patch");
  const contentType = (context.http.headers["content-type"] ?? "").split(";")[0]?.trim() ?? "";
  const patch = await readObjectBody(context);
  const isApply = contentType === "application/apply-patch+yaml";
  if (isApply && !status) {
    const created = await applyCreateIfMissing(context, patch);
    if (created !== undefined) {
      writeJson(context.response, 201, created);
      return;
    }
  }
  const updated = await guardedUpdate(context, keyOf(context), (current) => {
    const next = isApply ? checkWrittenFields(context, serverSideApply(context, current, patch, status)) : track(context, current, checkWrittenFields(context, patched(contentType, current, patch), patch), status ? "status" : "");
    const expected = metadataOf(next).resourceVersion ?? "";
    const withCurrentVersion = { ...next, metadata: { ...recordOf(next["metadata"]), resourceVersion: expected === "" ? metadataOf(current).resourceVersion : expected } };
    return replacementFromPatch(context, withCurrentVersion, current, status);
  });
  writeJson(context.response, 200, await finishDeletionIfReleased(context, updated));
}

// managedFields were computed by the patch step; replacement() must not record them again.
function replacementFromPatch(context: HandlerContext, next: StoredObject, current: StoredObject, status: boolean): StoredObject {
  const expected = metadataOf(next).resourceVersion ?? "";
  if (expected !== metadataOf(current).resourceVersion) throw newConflictModified(groupResource(context.info), context.request.name);
  const typed = checkTypeAndNamespace(context.info, next, context.request.namespace);
  const stored = status ? prepareStatusUpdate(typed, current) : prepareForUpdate(context.info, dropTypeDependentOnUpdate(context, keepSpecFinalizers(context, typed, current), current), current, findSubresource(context.info, "status") !== undefined);
  const managedFields = metadataOf(typed).managedFields;
  if (managedFields !== undefined) (stored["metadata"] as Record<string, unknown>)["managedFields"] = managedFields;
  return keepManagedFieldsTimes(current, stored);
}

// Server-side apply creates the object when it does not exist yet.
async function applyCreateIfMissing(context: HandlerContext, patch: unknown): Promise<StoredObject | undefined> {
  try {
    await context.cacher.get(keyOf(context));
    return undefined;
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  const applied = checkWrittenFields(context, serverSideApply(context, undefined, patch, false));
  const named = { ...applied, metadata: { ...recordOf(applied["metadata"]), name: context.request.name } };
  return await createObject(context, named);
}
