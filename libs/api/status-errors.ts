/**
 * Upstream's API errors (k8s.io/apimachinery pkg/api/errors): each builder returns a StatusError
 * whose `status` is the metav1.Status the API server writes, field for field and in upstream's key
 * order, e.g. NotFound: `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
 * "message":"pods \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"pods"},
 * "code":404}`. Messages quote names with Go's %q.
 */
import type { FieldError } from "./field-errors.ts";
import { aggregateMessage, errorBody } from "./field-errors.ts";
import { goQuote } from "./go-format.ts";
import type { Status, StatusCause, StatusDetails, StatusReason } from "./types/meta.ts";

/** A resource in a group ("" for the core group): `pods`, `deployments.apps`. */
export interface GroupResource {
  readonly group: string;
  readonly resource: string;
}

/** A kind in a group: `Pod`, `Deployment.apps`. */
export interface GroupKind {
  readonly group: string;
  readonly kind: string;
}

/** The text upstream's registry puts in a Conflict when a resourceVersion precondition fails. */
export const optimisticLockMessage = "the object has been modified; please apply your changes to the latest version and try again";

/** An error carrying the Status an API server answers with; mapped to HTTP at the edge. */
export class StatusError extends Error {
  readonly status: Status;

  constructor(status: Status) {
    super(status.message ?? "");
    this.name = "StatusError";
    this.status = status;
  }

  get code(): number {
    return this.status.code ?? 0;
  }

  get reason(): StatusReason {
    return this.status.reason ?? "";
  }
}

export function isStatusError(error: unknown, reason?: StatusReason): error is StatusError {
  return error instanceof StatusError && (reason === undefined || error.reason === reason);
}

/** `pods`, `deployments.apps` (schema.GroupResource.String). */
export function formatGroupResource(groupResource: GroupResource): string {
  return groupResource.group === "" ? groupResource.resource : `${groupResource.resource}.${groupResource.group}`;
}

/** `Pod`, `Deployment.apps` (schema.GroupKind.String). */
export function formatGroupKind(groupKind: GroupKind): string {
  return groupKind.group === "" ? groupKind.kind : `${groupKind.kind}.${groupKind.group}`;
}

// Builds StatusDetails with upstream's key order, leaving out empty fields (omitempty).
function details(fields: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number }): StatusDetails {
  const out: StatusDetails = {};
  if (fields.name) out.name = fields.name;
  if (fields.group) out.group = fields.group;
  if (fields.kind) out.kind = fields.kind;
  if (fields.uid) out.uid = fields.uid;
  if (fields.causes !== undefined && fields.causes.length > 0) out.causes = fields.causes;
  if (fields.retryAfterSeconds) out.retryAfterSeconds = fields.retryAfterSeconds;
  return out;
}

function failure(code: number, reason: StatusReason, message: string, statusDetails?: StatusDetails): StatusError {
  const status: Status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason };
  if (statusDetails !== undefined) status.details = statusDetails;
  status.code = code;
  return new StatusError(status);
}

function resourceDetails(groupResource: GroupResource, name: string, retryAfterSeconds?: number): StatusDetails {
  return details({ name, group: groupResource.group, kind: groupResource.resource, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) });
}

/** 404 `pods "x" not found`. */
export function newNotFound(groupResource: GroupResource, name: string): StatusError {
  return failure(404, "NotFound", `${formatGroupResource(groupResource)} ${goQuote(name)} not found`, resourceDetails(groupResource, name));
}

/** 409 `pods "x" already exists`. */
export function newAlreadyExists(groupResource: GroupResource, name: string): StatusError {
  return failure(409, "AlreadyExists", `${formatGroupResource(groupResource)} ${goQuote(name)} already exists`, resourceDetails(groupResource, name));
}

/** 409 when a generated name collided: the client should retry. */
export function newGenerateNameConflict(groupResource: GroupResource, name: string, retryAfterSeconds: number): StatusError {
  const message = `${formatGroupResource(groupResource)} ${goQuote(name)} already exists, the server was not able to generate a unique name for the object`;
  return failure(409, "AlreadyExists", message, resourceDetails(groupResource, name, retryAfterSeconds));
}

/** 409 `Operation cannot be fulfilled on deployments.apps "web": <reason>`. */
export function newConflict(groupResource: GroupResource, name: string, reason: string): StatusError {
  const message = `Operation cannot be fulfilled on ${formatGroupResource(groupResource)} ${goQuote(name)}: ${reason}`;
  return failure(409, "Conflict", message, resourceDetails(groupResource, name));
}

/** 409 for a stale resourceVersion: `... the object has been modified; please apply your changes ...`. */
export function newConflictModified(groupResource: GroupResource, name: string): StatusError {
  return newConflict(groupResource, name, optimisticLockMessage);
}

/** 409 from server-side apply: one cause per conflicting field (reason FieldManagerConflict). */
export function newApplyConflict(causes: StatusCause[], message: string): StatusError {
  return failure(409, "Conflict", message, details({ causes }));
}

/** 422 `Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: ...`, one cause per error. */
export function newInvalid(groupKind: GroupKind, name: string, errors: readonly FieldError[]): StatusError {
  const causes: StatusCause[] = errors.map((error) => {
    const cause: StatusCause = { reason: error.type, message: errorBody(error) };
    if (error.field !== "") cause.field = error.field;
    return cause;
  });
  const aggregate = aggregateMessage(errors);
  const subject = `${formatGroupKind(groupKind)} ${goQuote(name)} is invalid`;
  const message = aggregate === undefined ? subject : `${subject}: ${aggregate}`;
  return failure(422, "Invalid", message, details({ name, group: groupKind.group, kind: groupKind.kind, causes }));
}

/** 400 with the message as given. */
export function newBadRequest(message: string): StatusError {
  return failure(400, "BadRequest", message);
}

/** 401; upstream's authentication failure passes "Unauthorized", an empty reason reads "not authorized". */
export function newUnauthorized(reason = ""): StatusError {
  return failure(401, "Unauthorized", reason === "" ? "not authorized" : reason);
}

/** 403 `pods is forbidden: <reason>` (or `pods "x" is forbidden: ...`, or `forbidden: ...` with no resource). */
export function newForbidden(groupResource: GroupResource, name: string, reason: string): StatusError {
  let message: string;
  if (groupResource.group === "" && groupResource.resource === "") message = `forbidden: ${reason}`;
  else if (name === "") message = `${formatGroupResource(groupResource)} is forbidden: ${reason}`;
  else message = `${formatGroupResource(groupResource)} ${goQuote(name)} is forbidden: ${reason}`;
  return failure(403, "Forbidden", message, resourceDetails(groupResource, name));
}

/** What an authorizer was asked: who, which verb, on which resource (or non-resource path). */
export interface AccessAttributes {
  readonly user: string;
  readonly verb: string;
  readonly group?: string;
  readonly resource?: string;
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name?: string;
  /** Set for non-resource requests (`/healthz`); resource fields are then ignored. */
  readonly path?: string;
}

/** The authorizer's sentence: `User "x" cannot list resource "pods" in API group "" in the namespace "y"`. */
export function forbiddenMessage(attributes: AccessAttributes): string {
  const user = goQuote(attributes.user);
  if (attributes.path !== undefined) return `User ${user} cannot ${attributes.verb} path ${goQuote(attributes.path)}`;
  const resource = attributes.subresource ? `${attributes.resource ?? ""}/${attributes.subresource}` : (attributes.resource ?? "");
  const where = attributes.namespace ? `in the namespace ${goQuote(attributes.namespace)}` : "at the cluster scope";
  return `User ${user} cannot ${attributes.verb} resource ${goQuote(resource)} in API group ${goQuote(attributes.group ?? "")} ${where}`;
}

/** 403 as the API server answers a denied request; `reason` is the authorizer's extra text. */
export function newForbiddenAccess(attributes: AccessAttributes, reason = ""): StatusError {
  const sentence = forbiddenMessage(attributes);
  const groupResource = { group: attributes.group ?? "", resource: attributes.path === undefined ? (attributes.resource ?? "") : "" };
  return newForbidden(groupResource, attributes.name ?? "", reason === "" ? sentence : `${sentence}: ${reason}`);
}

/** 410 reason Gone (deprecated upstream in favour of resourceExpired). */
export function newGone(message: string): StatusError {
  return failure(410, "Gone", message);
}

/** 410 reason Expired: a resourceVersion or continue token older than what is kept. */
export function newResourceExpired(message: string): StatusError {
  return failure(410, "Expired", message);
}

/** 410 `too old resource version: 5 (9)`, what a watch from a compacted revision gets. */
export function newTooOldResourceVersion(requested: number | string, oldest: number | string): StatusError {
  return newResourceExpired(`too old resource version: ${requested} (${oldest})`);
}

/** 429 with the message as given (the API priority and fairness shape). */
export function newTooManyRequests(message: string, retryAfterSeconds: number): StatusError {
  return failure(429, "TooManyRequests", message, details({ retryAfterSeconds }));
}

/** 405 `<action> is not supported on resources of kind "pods"`. */
export function newMethodNotSupported(groupResource: GroupResource, action: string): StatusError {
  const message = `${action} is not supported on resources of kind ${goQuote(formatGroupResource(groupResource))}`;
  return failure(405, "MethodNotAllowed", message, details({ group: groupResource.group, kind: groupResource.resource }));
}

/** 413 `Request entity too large: <message>`. */
export function newRequestEntityTooLarge(message: string): StatusError {
  return failure(413, "RequestEntityTooLarge", `Request entity too large: ${message}`);
}

/** 415, e.g. a strategic merge patch on a kind without a schema. */
export function newUnsupportedMediaType(message: string): StatusError {
  return failure(415, "UnsupportedMediaType", message);
}

/** 406, a response type the server cannot produce. */
export function newNotAcceptable(message: string): StatusError {
  return failure(406, "NotAcceptable", message);
}

/** 500 `Internal error occurred: <message>`, the message repeated as the only cause. */
export function newInternalError(message: string): StatusError {
  return failure(500, "InternalError", `Internal error occurred: ${message}`, details({ causes: [{ message }] }));
}

/** 504 `Timeout: <message>`. */
export function newTimeoutError(message: string, retryAfterSeconds: number): StatusError {
  return failure(504, "Timeout", `Timeout: ${message}`, details({ retryAfterSeconds }));
}

/** 500 reason ServerTimeout: `The <operation> operation against <resource> could not be completed ...`. */
export function newServerTimeout(groupResource: GroupResource, operation: string, retryAfterSeconds: number): StatusError {
  const message = `The ${operation} operation against ${formatGroupResource(groupResource)} could not be completed at this time, please try again.`;
  return failure(500, "ServerTimeout", message, details({ name: operation, group: groupResource.group, kind: groupResource.resource, retryAfterSeconds }));
}

/** 503 with the message as given. */
export function newServiceUnavailable(message: string): StatusError {
  return failure(503, "ServiceUnavailable", message);
}

/** The Status a DELETE answers with when it returns no object. */
export function successStatus(detailsOf: { name?: string; group?: string; kind?: string; uid?: string }): Status {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: details(detailsOf) };
}
