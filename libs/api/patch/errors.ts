/**
 * The errors this library throws. Each carries the data an API server needs to answer (which
 * operation, which path, which managers), and is mapped to an HTTP status at the edge only:
 * PatchFormatError and JsonPatchError are 422 (or 400 for a patch that is not even JSON),
 * JsonPatchTestError is 422 like upstream, ApplyConflictError is 409.
 */

/** A patch (or a document) that is malformed: wrong shape, bad directive, missing merge key. */
export class PatchFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PatchFormatError";
  }
}

/**
 * A computed patch would change something its caller promised it would not (kubectl apply: the
 * apiVersion, the kind, the name), upstream's ErrPreconditionFailed.
 */
export class PreconditionFailedError extends Error {
  constructor(patchText: string) {
    super(`precondition failed for: ${patchText}`);
    this.name = "PreconditionFailedError";
  }
}

/** A JSON patch (RFC 6902) operation that failed; names the operation's index, kind and path. */
export class JsonPatchError extends Error {
  readonly operationIndex: number;
  readonly op: string;
  readonly path: string;

  constructor(operationIndex: number, op: string, path: string, reason: string) {
    super(`json patch operation ${operationIndex} (${op}) at ${JSON.stringify(path)}: ${reason}`);
    this.name = "JsonPatchError";
    this.operationIndex = operationIndex;
    this.op = op;
    this.path = path;
  }
}

/** One field whose owner is another manager and whose value an apply would change. */
export interface FieldConflict {
  /** The other manager's name, as written in its managedFields entry. */
  readonly manager: string;
  readonly operation: "Apply" | "Update";
  readonly apiVersion: string;
  readonly subresource: string;
  /** The entry's time (RFC 3339), when it has one (not part of the message, like upstream). */
  readonly time: string | undefined;
  /** The field in structured-merge-diff's notation: `.spec.replicas`, `.spec.ports[port=80,protocol="TCP"]`. */
  readonly field: string;
}

/**
 * Server-side apply refused because fields it would change belong to other managers. The message
 * has upstream's shape, e.g. `Apply failed with 1 conflict: conflict with "kubectl-client-side-apply"
 * using apps/v1: .spec.replicas`; `conflicts` lists each field (the API server's status causes).
 */
export class ApplyConflictError extends Error {
  readonly conflicts: readonly FieldConflict[];

  constructor(conflicts: readonly FieldConflict[]) {
    super(conflictMessage(conflicts));
    this.name = "ApplyConflictError";
    this.conflicts = conflicts;
  }
}

/** How upstream names a manager in a conflict: an applier by name, an updater with its API version. */
export function describeManager(conflict: FieldConflict): string {
  let text = JSON.stringify(conflict.manager);
  if (conflict.subresource !== "") text += ` with subresource ${JSON.stringify(conflict.subresource)}`;
  // Upstream prints the manager identifier, which never holds the entry's time.
  if (conflict.operation === "Update") text += ` using ${conflict.apiVersion}`;
  return text;
}

function conflictMessage(conflicts: readonly FieldConflict[]): string {
  const [only] = conflicts;
  if (conflicts.length === 1 && only !== undefined) {
    return `Apply failed with 1 conflict: conflict with ${describeManager(only)}: ${only.field}`;
  }
  const byManager = new Map<string, string[]>();
  for (const conflict of conflicts) {
    const key = describeManager(conflict);
    const fields = byManager.get(key) ?? [];
    fields.push(conflict.field);
    byManager.set(key, fields);
  }
  const lines: string[] = [];
  for (const manager of [...byManager.keys()].sort()) {
    lines.push(`conflicts with ${manager}:`);
    for (const field of byManager.get(manager) ?? []) lines.push(`- ${field}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join("\n")}`;
}
