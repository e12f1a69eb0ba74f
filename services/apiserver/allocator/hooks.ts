/** The calls the REST handlers make: allocate for a Service being created, release for one deleted. */
import { findResource } from "../../../libs/api/registry.ts";
import type { HandlerContext } from "../context.ts";
import { namespacePrefix, type StoredObject } from "../storage/index.ts";
import { allocateForService, keepAllocatedValues, releaseForService, serviceAllocatorsOf, type Allocation } from "./services.ts";

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

/** Before a namespace's contents are deleted: the IPs and node ports of its Services go back. */
export async function releaseNamespaceServices(context: HandlerContext, namespace: string): Promise<void> {
  const allocators = serviceAllocatorsOf(context.storages);
  const info = findResource("", "v1", "services");
  if (allocators === undefined || info === undefined) return;
  const listed = await context.storages.cacherFor(info).list(namespacePrefix({ group: "", resource: "services" }, namespace));
  for (const service of listed.items) await releaseForService(allocators, service);
}

/** An updated Service keeps the IPs and node ports it was given when the update leaves them out. */
export function keepAllocatedOnUpdate(context: HandlerContext, current: StoredObject, next: StoredObject): StoredObject {
  return isServices(context) && context.request.subresource === "" ? keepAllocatedValues(current, next) : next;
}
