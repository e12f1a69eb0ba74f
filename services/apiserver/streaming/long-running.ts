/**
 * Which requests are long-running, as upstream's BasicLongRunningRequestCheck decides: the verbs
 * watch and proxy, and the subresources attach, exec, log, portforward and proxy (every pods/log,
 * followed or not, as upstream). They are exempt from the request timeout and from the
 * max-in-flight limit; everything else keeps both.
 */
import type { NonResourceRequest, ResourceRequest } from "../request-info.ts";

const longRunningVerbs: ReadonlySet<string> = new Set(["watch", "proxy"]);
const longRunningSubresources: ReadonlySet<string> = new Set(["attach", "exec", "log", "portforward", "proxy"]);

export function isLongRunningRequest(info: ResourceRequest | NonResourceRequest): boolean {
  if (info.kind !== "resource") return false;
  return longRunningVerbs.has(info.verb) || longRunningSubresources.has(info.subresource);
}
