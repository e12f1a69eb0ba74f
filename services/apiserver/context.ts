/** What every resource handler gets: the request as parsed, who sent it, and where to answer. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ResourceInfo } from "../../libs/api/registry.ts";
import type { ResourceRequest } from "./request-info.ts";
import type { Cacher } from "./storage/index.ts";
import type { Storages } from "./storages.ts";
import { objectKey, namespacePrefix } from "./storage/index.ts";

export interface UserInfo {
  readonly name: string;
  readonly groups: readonly string[];
}

export interface HandlerContext {
  readonly info: ResourceInfo;
  readonly request: ResourceRequest;
  readonly query: URLSearchParams;
  readonly http: IncomingMessage;
  readonly response: ServerResponse;
  readonly user: UserInfo;
  readonly cacher: Cacher;
  /** The namespaces cache, for the check that a namespace exists before objects are created in it. */
  readonly namespaces: Cacher;
  readonly storages: Storages;
  /** Aborted when the client goes away or the server stops. */
  readonly signal: AbortSignal;
  readonly nowMs: () => number;
}

/** The storage key of the object a request names. */
export function keyOf(context: HandlerContext, name = context.request.name): string {
  const groupResource = { group: context.info.group, resource: context.info.resource };
  return objectKey(groupResource, context.info.namespaced ? context.request.namespace : undefined, name);
}

/** The list or watch prefix of a request: one namespace, or all of the resource. */
export function prefixOf(context: HandlerContext): string {
  const groupResource = { group: context.info.group, resource: context.info.resource };
  return namespacePrefix(groupResource, context.info.namespaced ? context.request.namespace : undefined);
}
