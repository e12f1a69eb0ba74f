/**
 * Server-side apply (`kubectl apply --server-side`, application/apply-patch+yaml) and the field
 * ownership every write records in metadata.managedFields, after upstream's fieldmanager and
 * structured-merge-diff's merge.Updater:
 *   - apply() merges the applied configuration into the live object, makes the applier own
 *     exactly the fields it applied, removes fields it applied last time and no longer applies
 *     (unless another manager owns them), and refuses to change fields other managers own unless
 *     forced (then they lose them);
 *   - updateManagedFields() records an ordinary write (create, update, patch): its manager takes
 *     over every field it changed, and every other manager loses those fields.
 */
import { assert } from "../../assert/index.ts";
import { ApplyConflictError, PatchFormatError } from "./errors.ts";
import type { FieldConflict } from "./errors.ts";
import { compareStrings, deepClone, deepEqual, hasOwn, isJsonObject, toJsonObject } from "./json.ts";
import type { JsonObject, JsonValue } from "./json.ts";
import { FieldSet, fieldElement, formatFieldPath, serializePathElement } from "./fieldpath.ts";
import type { FieldPath } from "./fieldpath.ts";
import { builtinSchema } from "./builtin-schema.ts";
import { deducedSchema } from "./schema.ts";
import type { PatchSchema } from "./schema.ts";
import { compareObjects, mergeObjects, pruneObject, toFieldSet } from "./typed.ts";

/** Upstream keeps at most this many Update entries; older ones merge into "ancient-changes". */
export const updateManagersMax = 10;
export const ancientChangesManager = "ancient-changes";
/** Owns the fields of an untracked object when it is first applied. */
export const beforeFirstApplyManager = "before-first-apply";

/** One entry of metadata.managedFields, as the API returns it. */
export interface ManagedFieldsEntry {
  readonly manager: string;
  readonly operation: "Apply" | "Update";
  readonly apiVersion: string;
  readonly time?: string;
  readonly fieldsType: "FieldsV1";
  readonly fieldsV1: JsonObject;
  readonly subresource?: string;
}

export interface FieldManagerOptions {
  /** The schema of the object's kind; default: builtinSchema(apiVersion, kind), else deducedSchema. */
  readonly schema?: PatchSchema;
  /** The time to stamp on the acting manager's entry (RFC 3339). Pure: the caller owns the clock. */
  readonly time?: string;
  /** The subresource written through ("status", "scale"), "" for the object itself. */
  readonly subresource?: string;
  /**
   * Fields this endpoint resets and nobody may own through it, as field-name paths: ["status"]
   * for the main resource of kinds with a status subresource.
   */
  readonly ignoredFields?: ReadonlyArray<readonly string[]>;
}

/** What every manager owns, keyed by identity (manager, operation, version for updates, subresource). */
interface Manager {
  readonly manager: string;
  readonly operation: "Apply" | "Update";
  readonly apiVersion: string;
  readonly subresource: string;
  time: string | undefined;
  set: FieldSet;
}

type Managers = Map<string, Manager>;

function identity(manager: string, operation: "Apply" | "Update", apiVersion: string, subresource: string): string {
  // Appliers keep one entry across versions; updaters get one per version, like upstream.
  return JSON.stringify([manager, operation, operation === "Apply" ? "" : apiVersion, subresource]);
}

/** The fields upstream never records as owned: identity and bookkeeping, not configuration. */
const strippedFields = FieldSet.fromPaths(
  [["apiVersion"], ["kind"], ["metadata"], ...["name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation", "managedFields", "resourceVersion"].map((name) => ["metadata", name])].map(
    (names) => names.map(fieldElement),
  ),
);

/**
 * Server-side apply: merges `applied` into `live` (undefined when the apply creates the object) for
 * `manager` and returns the new object with metadata.managedFields updated. Throws
 * ApplyConflictError when the apply would change fields other managers own, unless `force`.
 */
export function apply(live: JsonObject | undefined, applied: JsonValue, manager: string, force: boolean, options: FieldManagerOptions = {}): JsonObject {
  assert(manager !== "", "an apply names its field manager");
  const config = withoutManagedFields(toJsonObject(applied, "applied configuration"));
  const liveObject = withoutManagedFields(live ?? {});
  const managers = decodeManagedFields(managedFieldsOf(live));
  const schema = schemaFor(options, config);
  const apiVersion = apiVersionOf(config);
  const subresource = options.subresource ?? "";
  const id = identity(manager, "Apply", apiVersion, subresource);
  const appliedSet = ownableFields(toFieldSet(config, schema), options);
  if (managers.size === 0 && live !== undefined) {
    // An object nobody tracked yet: its current fields belong to "before-first-apply", so that
    // the first apply conflicts with values it would change, as upstream's does.
    const liveVersion = typeof liveObject["apiVersion"] === "string" ? liveObject["apiVersion"] : apiVersion;
    const who = { manager: beforeFirstApplyManager, operation: "Update" as const, apiVersion: liveVersion, subresource: "" };
    recordUpdate(managers, {}, liveObject, identity(who.manager, "Update", liveVersion, ""), who, schema, { ignoredFields: options.ignoredFields ?? [] });
  }
  const lastSet = managers.get(id)?.set;
  managers.set(id, { manager, operation: "Apply", apiVersion, subresource, time: options.time, set: appliedSet });
  let merged = mergeObjects(liveObject, config, schema);
  if (lastSet !== undefined) merged = pruneObject(merged, lastSet, ownedByAll(managers), schema);
  const comparison = compareObjects(liveObject, merged, schema);
  const changed = comparison.modified.union(comparison.added);
  const conflicts: FieldConflict[] = [];
  for (const [otherId, other] of managers) {
    if (otherId === id) continue;
    const lost = other.set.intersection(changed);
    for (const path of lost.paths()) conflicts.push(conflictOf(other, path));
    other.set = other.set.difference(lost).difference(comparison.removed);
  }
  if (conflicts.length > 0 && !force) throw new ApplyConflictError(conflicts);
  return withManagedFields(merged, managers);
}

/**
 * Records an ordinary write (operation "Update": create, update, patch) by `manager` that turned
 * `old` (undefined on create) into `updated`; returns `updated` with metadata.managedFields set.
 * Like upstream, managed fields the request itself carries are honoured (a client may edit them;
 * `[]` or `[{}]` resets them), and an existing object without managed fields stays untracked.
 */
export function updateManagedFields(old: JsonObject | undefined, updated: JsonObject, manager: string, operation: "Update", options: FieldManagerOptions = {}): JsonObject {
  assert(manager !== "", "an update names its field manager");
  const before = withoutManagedFields(old ?? {});
  const after = withoutManagedFields(updated);
  const subresource = options.subresource ?? "";
  const managers = managersForUpdate(old, updated, subresource !== "");
  if (managers.size === 0 && old !== undefined && !isReset(updated)) return after;
  const schema = schemaFor(options, after);
  const apiVersion = apiVersionOf(after);
  recordUpdate(managers, before, after, identity(manager, operation, apiVersion, subresource), { manager, operation, apiVersion, subresource }, schema, options);
  return withManagedFields(after, managers);
}

/** Gives `id` every field changed from `before` to `after` and takes them from everyone else. */
function recordUpdate(
  managers: Managers,
  before: JsonObject,
  after: JsonObject,
  id: string,
  who: Pick<Manager, "manager" | "operation" | "apiVersion" | "subresource">,
  schema: PatchSchema,
  options: FieldManagerOptions,
): void {
  const comparison = compareObjects(before, after, schema);
  const changed = comparison.modified.union(comparison.added);
  for (const [otherId, other] of managers) {
    if (otherId !== id) other.set = other.set.difference(changed).difference(comparison.removed);
  }
  const previous = managers.get(id)?.set ?? new FieldSet();
  const owned = ownableFields(previous.difference(comparison.removed).union(changed), options);
  managers.set(id, { ...who, time: options.time, set: owned });
  capUpdateManagers(managers);
}

/** Upstream's decodeLiveOrNew: the request's managed fields if it carries usable ones, else the live object's. */
function managersForUpdate(old: JsonObject | undefined, updated: JsonObject, throughSubresource: boolean): Managers {
  if (throughSubresource) return decodeManagedFields(managedFieldsOf(old));
  if (isReset(updated)) return new Map();
  try {
    const requested = decodeManagedFields(managedFieldsOf(updated));
    if (requested.size > 0) return requested;
  } catch (error) {
    if (!(error instanceof PatchFormatError)) throw error;
  }
  return decodeManagedFields(managedFieldsOf(old));
}

/** `managedFields: []` or `[{}]` in a request clears ownership. */
function isReset(object: JsonObject): boolean {
  const metadata = object["metadata"];
  if (!isJsonObject(metadata) || !Array.isArray(metadata["managedFields"])) return false;
  const entries = metadata["managedFields"];
  return entries.length === 0 || (entries.length === 1 && deepEqual(entries[0] as JsonValue, {}));
}

/** Managed fields are recorded per API version, so every tracked object must carry one. */
function apiVersionOf(object: JsonObject): string {
  const apiVersion = object["apiVersion"];
  if (typeof apiVersion !== "string" || apiVersion === "" || typeof object["kind"] !== "string") {
    throw new PatchFormatError("apiVersion and kind must be set");
  }
  return apiVersion;
}

function schemaFor(options: FieldManagerOptions, object: JsonObject): PatchSchema {
  if (options.schema !== undefined) return options.schema;
  const apiVersion = object["apiVersion"];
  const kind = object["kind"];
  if (typeof apiVersion === "string" && typeof kind === "string") return builtinSchema(apiVersion, kind) ?? deducedSchema;
  return deducedSchema;
}

function ownableFields(set: FieldSet, options: FieldManagerOptions): FieldSet {
  let result = set.difference(strippedFields);
  for (const names of options.ignoredFields ?? []) result = withoutPrefix(result, names.map(fieldElement));
  return result;
}

/** The set without `prefix` and everything under it. */
function withoutPrefix(set: FieldSet, prefix: FieldPath): FieldSet {
  const prefixKeys = prefix.map(serializePathElement);
  const matches = (path: FieldPath): boolean =>
    prefixKeys.every((key, index) => {
      const element = path[index];
      return element !== undefined && serializePathElement(element) === key;
    });
  return set.difference(FieldSet.fromPaths(set.paths().filter(matches)));
}

function ownedByAll(managers: Managers): FieldSet {
  let all = new FieldSet();
  for (const entry of managers.values()) all = all.union(entry.set);
  return all;
}

function conflictOf(other: Manager, path: FieldPath): FieldConflict {
  return {
    manager: other.manager,
    operation: other.operation,
    apiVersion: other.apiVersion,
    subresource: other.subresource,
    time: other.time,
    field: formatFieldPath(path),
  };
}

function managedFieldsOf(object: JsonObject | undefined): JsonValue[] {
  const metadata = object?.["metadata"];
  if (!isJsonObject(metadata)) return [];
  const entries = metadata["managedFields"];
  return Array.isArray(entries) ? entries : [];
}

function withoutManagedFields(object: JsonObject): JsonObject {
  const copy = deepClone(object);
  const metadata = copy["metadata"];
  if (isJsonObject(metadata)) delete metadata["managedFields"];
  return copy;
}

/**
 * Reads metadata.managedFields. Entries with an empty manager are dropped (a client resets the
 * field with `[{}]`, as upstream allows); malformed entries are a PatchFormatError.
 */
export function decodeManagedFields(entries: readonly JsonValue[]): Managers {
  const managers: Managers = new Map();
  entries.forEach((entry, index) => {
    if (!isJsonObject(entry)) throw new PatchFormatError(`managedFields[${index}] must be an object`);
    if (Object.keys(entry).length === 0) return;
    const { manager = "", operation, apiVersion, fieldsType, fieldsV1 = {}, subresource = "", time } = entry;
    if (operation !== "Apply" && operation !== "Update") throw new PatchFormatError(`managedFields[${index}]: operation must be \`Apply\` or \`Update\``);
    if (typeof apiVersion !== "string" || apiVersion === "") throw new PatchFormatError(`managedFields[${index}]: apiVersion must not be empty`);
    if (fieldsType !== "FieldsV1") throw new PatchFormatError(`managedFields[${index}]: invalid fieldsType ${JSON.stringify(fieldsType ?? "")}`);
    if (typeof manager !== "string" || typeof subresource !== "string") throw new PatchFormatError(`managedFields[${index}]: manager and subresource must be strings`);
    if (time !== undefined && time !== null && typeof time !== "string") throw new PatchFormatError(`managedFields[${index}]: time must be a string`);
    const set = FieldSet.fromFieldsV1(fieldsV1);
    const id = identity(manager, operation, apiVersion, subresource);
    managers.set(id, { manager, operation, apiVersion, subresource, time: typeof time === "string" ? time : undefined, set });
  });
  return managers;
}

/** The managers as metadata.managedFields entries, in upstream's order; empty sets are dropped. */
export function encodeManagedFields(managers: Managers): ManagedFieldsEntry[] {
  const entries: ManagedFieldsEntry[] = [];
  for (const entry of managers.values()) {
    if (entry.set.isEmpty()) continue;
    entries.push({
      manager: entry.manager,
      operation: entry.operation,
      apiVersion: entry.apiVersion,
      ...(entry.time === undefined ? {} : { time: entry.time }),
      fieldsType: "FieldsV1",
      fieldsV1: entry.set.toFieldsV1(),
      ...(entry.subresource === "" ? {} : { subresource: entry.subresource }),
    });
  }
  return entries.sort(
    (left, right) =>
      compareStrings(left.operation, right.operation) ||
      secondsOf(left.time) - secondsOf(right.time) ||
      compareStrings(left.manager, right.manager) ||
      compareStrings(left.apiVersion, right.apiVersion) ||
      compareStrings(left.subresource ?? "", right.subresource ?? ""),
  );
}

function secondsOf(time: string | undefined): number {
  if (time === undefined) return 0;
  const milliseconds = Date.parse(time);
  return Number.isNaN(milliseconds) ? 0 : Math.floor(milliseconds / 1000);
}

function withManagedFields(object: JsonObject, managers: Managers): JsonObject {
  const entries = encodeManagedFields(managers);
  if (entries.length === 0) return object;
  const metadata = isJsonObject(object["metadata"]) ? object["metadata"] : {};
  metadata["managedFields"] = entries as unknown as JsonValue[];
  if (!hasOwn(object, "metadata")) object["metadata"] = metadata;
  return object;
}

/**
 * Keeps at most updateManagersMax Update entries: the oldest are folded, per API version, into an
 * "ancient-changes" entry (upstream's capManagersManager).
 */
function capUpdateManagers(managers: Managers): void {
  const updaters = [...managers.entries()].filter(([, entry]) => entry.operation === "Update" && !entry.set.isEmpty());
  if (updaters.length <= updateManagersMax) return;
  updaters.sort(([leftId, left], [rightId, right]) => secondsOf(left.time) - secondsOf(right.time) || compareStrings(leftId, rightId));
  let count = updaters.length;
  const firstByVersion = new Map<string, string>();
  for (const [id, entry] of updaters) {
    if (count <= updateManagersMax) break;
    const first = firstByVersion.get(entry.apiVersion);
    if (first === undefined) {
      firstByVersion.set(entry.apiVersion, id);
      continue;
    }
    const bucketId = identity(ancientChangesManager, "Update", entry.apiVersion, "");
    let bucket = managers.get(bucketId);
    if (bucket === undefined) {
      const firstEntry = managers.get(first);
      assert(firstEntry !== undefined, "the first updater of a version is still recorded");
      managers.delete(first);
      bucket = { ...firstEntry, manager: ancientChangesManager, subresource: "" };
      managers.set(bucketId, bucket);
    }
    bucket.set = bucket.set.union(entry.set);
    bucket.time = entry.time;
    managers.delete(id);
    count--;
  }
}
