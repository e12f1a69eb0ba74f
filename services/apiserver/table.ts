/**
 * Server-side Table output (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`) through
 * libs/api's printers: upstream's columns and cells per resource.
 */
import type { ResourceInfo } from "../../libs/api/registry.ts";
import { listTable, type IncludeObjectPolicy } from "../../libs/api/table.ts";
import type { KubeObject, ListMeta, Table } from "../../libs/api/types/meta.ts";
import type { StoredObject } from "./storage/index.ts";

/** True when an Accept header asks for a meta.k8s.io/v1 Table. */
export function wantsTable(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.split(",").some((part) => {
    const params = part.split(";").map((piece) => piece.trim());
    return params.includes("as=Table") && params.includes("g=meta.k8s.io") && (params.includes("v=v1") || params.includes("v=v1beta1"));
  });
}

/** `?includeObject=` (None, Metadata, Object); Metadata when absent or unknown. */
export function includeObjectPolicy(value: string | null): IncludeObjectPolicy {
  return value === "None" || value === "Object" ? value : "Metadata";
}

/** The Table of `objects` for a resource. */
export function toTable(info: ResourceInfo, objects: readonly StoredObject[], listMeta: ListMeta, nowMs: number, includeObject: IncludeObjectPolicy = "Metadata"): Table {
  return listTable(info.group, info.resource, objects as unknown as KubeObject[], listMeta, { nowMs, includeObject });
}
