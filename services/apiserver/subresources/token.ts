/**
 * TokenRequest (`POST .../serviceaccounts/<name>/token`, what `kubectl create token` sends): a
 * service account token for the named account, with the audiences and lifetime asked for
 * (default: the API server's audience, 1 hour; at least 10 minutes), optionally bound to a pod.
 */
import { fieldInvalid, fieldNotSupported, type FieldError } from "../../../libs/api/field-errors.ts";
import { findResource } from "../../../libs/api/registry.ts";
import { newBadRequest, newInvalid, newNotFound } from "../../../libs/api/status-errors.ts";
import { serviceAccountIssuer, type ServiceAccountTokens } from "../authn-serviceaccount.ts";
import { keyOf, type HandlerContext } from "../context.ts";
import { readBody, writeJson } from "../http.ts";
import { metadataOf, recordOf } from "../object-meta.ts";
import { bytesField, integerField, readFields, stringField, stringsField, unwrapEnvelope, WireError } from "./wire.ts";
import { NotFoundError, objectKey, type StoredObject } from "../storage/index.ts";

export const tokenSecondsDefault = 3600;
/** upstream refuses lifetimes under 10 minutes and caps them at 2^32 seconds. */
export const tokenSecondsMin = 600;
export const tokenSecondsMax = 2 ** 32;

interface TokenRequestSpec {
  audiences: string[];
  expirationSeconds: number;
  boundObjectRef: { kind: string; apiVersion: string; name: string; uid: string } | null;
}

function specOf(body: unknown): TokenRequestSpec {
  const spec = recordOf(recordOf(body)["spec"]);
  const audiences = Array.isArray(spec["audiences"]) && spec["audiences"].length > 0 ? spec["audiences"].map(String) : [serviceAccountIssuer];
  const seconds = spec["expirationSeconds"];
  const expirationSeconds = typeof seconds === "number" ? seconds : tokenSecondsDefault;
  const bound = spec["boundObjectRef"];
  const ref = bound === undefined || bound === null ? null : recordOf(bound);
  return {
    audiences,
    expirationSeconds,
    boundObjectRef: ref === null ? null : { kind: String(ref["kind"] ?? ""), apiVersion: String(ref["apiVersion"] ?? "v1"), name: String(ref["name"] ?? ""), uid: String(ref["uid"] ?? "") },
  };
}

function validateSpec(spec: TokenRequestSpec): FieldError[] {
  const errors: FieldError[] = [];
  if (!Number.isInteger(spec.expirationSeconds) || spec.expirationSeconds < tokenSecondsMin) {
    errors.push(fieldInvalid("spec.expirationSeconds", spec.expirationSeconds, "may not specify a duration less than 10 minutes"));
  } else if (spec.expirationSeconds > tokenSecondsMax) {
    errors.push(fieldInvalid("spec.expirationSeconds", spec.expirationSeconds, "may not specify a duration larger than 2^32 seconds"));
  }
  if (spec.boundObjectRef !== null && spec.boundObjectRef.kind !== "Pod") errors.push(fieldNotSupported("spec.boundObjectRef.kind", spec.boundObjectRef.kind, ["Pod"]));
  return errors;
}

/** A TokenRequest from kubectl's typed client (authentication/v1 generated.proto field numbers). */
export function decodeTokenRequestProtobuf(body: Buffer): unknown {
  const request = readFields(unwrapEnvelope(body));
  const spec = readFields(bytesField(request, 2) ?? Buffer.alloc(0));
  const boundBytes = bytesField(spec, 3);
  const bound = boundBytes === undefined ? undefined : readFields(boundBytes);
  const expirationSeconds = integerField(spec, 4);
  return {
    spec: {
      audiences: stringsField(spec, 1),
      ...(expirationSeconds === undefined ? {} : { expirationSeconds }),
      ...(bound === undefined ? {} : { boundObjectRef: { kind: stringField(bound, 1) ?? "", apiVersion: stringField(bound, 2) ?? "", name: stringField(bound, 3) ?? "", uid: stringField(bound, 4) ?? "" } }),
    },
  };
}

async function readTokenRequest(context: HandlerContext): Promise<unknown> {
  const bytes = await readBody(context.http);
  const contentType = (context.http.headers["content-type"] ?? "application/json").split(";")[0]?.trim() ?? "";
  try {
    if (contentType === "application/vnd.kubernetes.protobuf") return decodeTokenRequestProtobuf(bytes);
    return bytes.length === 0 ? {} : (JSON.parse(bytes.toString("utf8")) as unknown);
  } catch (error) {
    if (error instanceof WireError || error instanceof SyntaxError) throw newBadRequest(`the body of the request could not be decoded as a TokenRequest: ${error.message}`);
    throw error;
  }
}

async function lookup(context: HandlerContext, resource: string, name: string, namespace: string | undefined): Promise<StoredObject | undefined> {
  const info = findResource("", "v1", resource);
  if (info === undefined) return undefined;
  try {
    return await context.storages.cacherFor(info).get(objectKey({ group: "", resource }, namespace, name));
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

async function boundPod(context: HandlerContext, spec: TokenRequestSpec) {
  if (spec.boundObjectRef === null) return {};
  const pod = await lookup(context, "pods", spec.boundObjectRef.name, context.request.namespace);
  if (pod === undefined) throw newNotFound({ group: "", resource: "pods" }, spec.boundObjectRef.name);
  const uid = metadataOf(pod).uid ?? "";
  if (spec.boundObjectRef.uid !== "" && spec.boundObjectRef.uid !== uid) throw newBadRequest(`the UID in the bound object reference (${spec.boundObjectRef.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
  const nodeName = String(recordOf(pod["spec"])["nodeName"] ?? "");
  const node = nodeName === "" ? undefined : await lookup(context, "nodes", nodeName, undefined);
  return {
    pod: { name: spec.boundObjectRef.name, uid },
    ...(node === undefined ? {} : { node: { name: nodeName, uid: metadataOf(node).uid ?? "" } }),
  };
}

export async function handleTokenRequest(context: HandlerContext, tokens: ServiceAccountTokens): Promise<void> {
  const spec = specOf(await readTokenRequest(context));
  const errors = validateSpec(spec);
  if (errors.length > 0) throw newInvalid({ group: "authentication.k8s.io", kind: "TokenRequest" }, context.request.name, errors);
  let account: StoredObject;
  try {
    account = await context.cacher.get(keyOf(context));
  } catch (error) {
    if (error instanceof NotFoundError) throw newNotFound({ group: "", resource: "serviceaccounts" }, context.request.name);
    throw error;
  }
  const binding = await boundPod(context, spec);
  const namespace = context.request.namespace;
  const serviceAccount = { name: context.request.name, uid: metadataOf(account).uid ?? "" };
  const issued = tokens.issue({ namespace, serviceAccount, audiences: spec.audiences, expirationSeconds: spec.expirationSeconds, ...binding });
  const created = new Date(Math.floor(context.nowMs() / 1000) * 1000).toISOString().replace(".000Z", "Z");
  writeJson(context.response, 201, {
    kind: "TokenRequest",
    apiVersion: "authentication.k8s.io/v1",
    metadata: { name: context.request.name, namespace, creationTimestamp: created },
    spec,
    status: { token: issued.token, expirationTimestamp: new Date(issued.expiresAtMs).toISOString().replace(".000Z", "Z") },
  });
}
