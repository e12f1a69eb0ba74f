/**
 * Subresources that are not stored objects of their own: serviceaccounts/token (TokenRequest),
 * pods/binding and pods/eviction. The router asks `subresourceHandler` before its own handlers.
 */
import type { ServiceAccountTokens } from "../authn-serviceaccount.ts";
import type { HandlerContext } from "../context.ts";
import { handleBinding } from "./binding.ts";
import { handleEviction } from "./eviction.ts";
import { handleTokenRequest } from "./token.ts";

export interface SubresourceDeps {
  readonly tokens: ServiceAccountTokens;
}

/** The handler for this request's subresource, or undefined when the router serves it itself. */
export function subresourceHandler(context: HandlerContext, deps: SubresourceDeps): (() => Promise<void>) | undefined {
  const { group, resource, subresource, verb } = { ...context.request, group: context.info.group, resource: context.info.resource };
  if (group !== "" || verb !== "create") return undefined;
  if (resource === "serviceaccounts" && subresource === "token") return async () => handleTokenRequest(context, deps.tokens);
  if (resource === "pods" && subresource === "binding") return async () => handleBinding(context);
  if (resource === "pods" && subresource === "eviction") return async () => handleEviction(context);
  return undefined;
}
