/**
 * The API server's streaming subresources, proxied to the pod's node over the node API:
 * pods/log (plain HTTP, chunked), pods/exec and pods/portforward (WebSocket upgrades).
 */
import { newBadRequest } from "../../../libs/api/status-errors.ts";
import type { HandlerContext } from "../context.ts";
import type { ResourceRequest } from "../request-info.ts";
import { serveLog } from "./log.ts";

export { streamingUpgradeHandler, execProtocols, podStreamPath, type StreamingUpgradeDeps } from "./upgrade.ts";
export { serveLog } from "./log.ts";
export { isLongRunningRequest } from "./long-running.ts";

const streamingSubresources = new Set(["log", "exec", "attach", "portforward"]);

/** True for pods/log, pods/exec, pods/attach and pods/portforward. */
export function isStreamingRequest(request: ResourceRequest): boolean {
  return request.group === "" && request.resource === "pods" && streamingSubresources.has(request.subresource);
}

/** pods/log; exec, attach and portforward reach here only without an upgrade: 400 as upstream. */
export async function serveStreaming(context: HandlerContext): Promise<void> {
  if (context.request.subresource === "log" && context.request.verb === "get") return serveLog(context);
  if (context.request.subresource === "log") throw newBadRequest(`pods/log takes GET, not ${context.http.method ?? ""}`);
  throw newBadRequest("Upgrade request required");
}
