/** The calls the REST handlers make: allocate for a Service being created or updated, release for one deleted. */
import type { HandlerContext } from "../context.ts";
import type { StoredObject } from "../storage/index.ts";
import { allocateForService, keepAllocatedValues, releaseForService, serviceAllocatorsOf, type Allocation } from "./services.ts";
import { dropTypeDependentFields, ServiceUpdateAllocation } from "./update.ts";

function isServices(context: HandlerContext): boolean {
  return context.info.group === "" && context.info.resource === "services";
}

/** The object to store, with what was allocated for it; `release` undoes the allocation. */
export async function allocateOnCreate(context: HandlerContext, prepared: StoredObject, dryRun: boolean): Promise<Allocation> {
  const allocators = serviceAllocatorsOf(context.storages);
  if (allocators === undefined || !isServices(context)) return { object: prepared, release: async () => {} };
  return await allocateForService(allocators, prepared, dryRun);
}

/** After a Service is removed from the store: its IP and node ports go back. */
export async function releaseOnDelete(context: HandlerContext, deleted: StoredObject): Promise<void> {
  const allocators = serviceAllocatorsOf(context.storages);
  if (allocators === undefined || !isServices(context)) return;
  await releaseForService(allocators, deleted);
}

/** What an update through guardedUpdate allocates, releases when stored, or gives back when not. */
export interface UpdateAllocation {
  apply(current: StoredObject, next: StoredObject): Promise<StoredObject>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

const passThrough: UpdateAllocation = { apply: async (_current, next) => next, commit: async () => {}, abort: async () => {} };

/**
 * An updated Service keeps the IPs and node ports it was given when the update leaves them out,
 * gets what its new type needs, and gives back what it no longer holds (update.ts).
 */
export function allocationForUpdate(context: HandlerContext, dryRun: boolean): UpdateAllocation {
  const allocators = serviceAllocatorsOf(context.storages);
  if (allocators === undefined || !isServices(context) || context.request.subresource !== "") return passThrough;
  const update = new ServiceUpdateAllocation(allocators, dryRun);
  return { apply: async (current, next) => update.apply(current, keepAllocatedValues(current, next)), commit: async () => update.commit(), abort: async () => update.abort() };
}

/** Before validation: a Service's fields of its old type that the update left alone go (upstream's dropTypeDependentFields). */
export function dropTypeDependentOnUpdate(context: HandlerContext, next: StoredObject, current: StoredObject): StoredObject {
  return isServices(context) && context.request.subresource === "" ? dropTypeDependentFields(current, next) : next;
}
