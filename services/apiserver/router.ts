/**
 * Routing of one request: non-resource paths (health, version, discovery, OpenAPI) and resource
 * requests (`/api/v1/...`, `/apis/<g>/<v>/...`) to the verb handlers.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { apiGroup, apiGroupList, apiResourceList, apiVersions, findResource, findSubresource } from "../../libs/api/registry.ts";
import { StatusError, newMethodNotSupported, newNotAcceptable, newNotFound, newServiceUnavailable } from "../../libs/api/status-errors.ts";
import type { HandlerContext, UserInfo } from "./context.ts";
import { aggregatedDiscovery, aggregatedDiscoveryContentType, versionInfo, wantsAggregatedDiscovery } from "./discovery.ts";
import { writeJson } from "./http.ts";
import { openApiDocument, openApiIndex, swaggerV2Document } from "./openapi.ts";
import type { NonResourceRequest, ResourceRequest } from "./request-info.ts";
import { handleDelete, handleDeleteCollection } from "./rest-delete.ts";
import { handleGet, handleList, handleWatch } from "./rest-read.ts";
import { handleCreate, handlePatch, handleUpdate } from "./rest-write.ts";
import { metricsGroup, serveMetrics, type MetricsDeps } from "./metrics/serve.ts";
import { handleScale } from "./scale.ts";
import type { Storages } from "./storages.ts";
import { isStreamingRequest, serveStreaming } from "./streaming/index.ts";
import { subresourceHandler, type SubresourceDeps } from "./subresources/index.ts";

export interface RouterDeps {
  readonly storages: Storages;
  readonly serverAddress: string;
  readonly flotillaVersion: string;
  /** Changes when the served API changes, so clients can cache OpenAPI documents. */
  readonly openApiHash: string;
  readonly nowMs: () => number;
  /** TokenRequest, binding, eviction (subresources/); without it they answer 405. */
  readonly subresources?: SubresourceDeps | undefined;
  /** metrics.k8s.io (NodeMetrics, PodMetrics from the agents' usage samples); without it 503. */
  readonly metrics?: MetricsDeps | undefined;
}

/** upstream's text for a path nothing serves. */
function notFoundStatus(): StatusError {
  const error = newNotFound({ group: "", resource: "" }, "");
  error.status.message = "the server could not find the requested resource";
  delete error.status.details;
  return error;
}

function readyProbe(deps: RouterDeps): boolean {
  const namespaces = findResource("", "v1", "namespaces");
  return namespaces !== undefined && deps.storages.cacherFor(namespaces).stats().ready;
}

function writeText(response: ServerResponse, text: string): void {
  response.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" });
  response.end(text);
}

function discovery(request: IncomingMessage, path: string, deps: RouterDeps): unknown {
  const aggregated = wantsAggregatedDiscovery(request.headers.accept);
  if (path === "/api") return aggregated ? { aggregated: aggregatedDiscovery(true) } : apiVersions(deps.serverAddress);
  if (path === "/apis") return aggregated ? { aggregated: aggregatedDiscovery(false) } : apiGroupList();
  const segments = path.split("/").filter((segment) => segment !== "");
  if (segments[0] === "api" && segments.length === 2) return apiResourceList("", segments[1] ?? "");
  if (segments[0] === "apis" && segments.length === 2) return apiGroup(segments[1] ?? "");
  if (segments[0] === "apis" && segments.length === 3) return apiResourceList(segments[1] ?? "", segments[2] ?? "");
  return undefined;
}

function openApi(request: IncomingMessage, path: string, deps: RouterDeps): unknown {
  if (path === "/openapi/v2") return swaggerV2(request.headers.accept);
  if (path === "/openapi/v3") return openApiIndex(deps.openApiHash);
  const rest = path.slice("/openapi/v3/".length).split("/");
  if (rest[0] === "api" && rest.length === 2) return openApiDocument("", rest[1] ?? "");
  if (rest[0] === "apis" && rest.length === 3) return openApiDocument(rest[1] ?? "", rest[2] ?? "");
  return undefined;
}

// Swagger 2.0 is served as JSON only: a client that accepts nothing but protobuf gets 406, which
// client-go reads as "no v2 here" (kubectl 1.32 uses OpenAPI v3).
function swaggerV2(accept: string | undefined): unknown {
  const accepted = (accept ?? "*/*").split(",").map((part) => part.split(";")[0]?.trim() ?? "");
  if (!accepted.some((type) => type === "application/json" || type === "*/*" || type === "application/*")) {
    throw newNotAcceptable("only the following media types are accepted: application/json");
  }
  return swaggerV2Document();
}

/** Health, version, discovery and OpenAPI; 404 for anything else. */
export function serveNonResource(request: IncomingMessage, response: ServerResponse, info: NonResourceRequest, deps: RouterDeps): void {
  const path = info.path.length > 1 ? info.path.replace(/\/+$/, "") : info.path;
  if (["/healthz", "/livez"].includes(path)) return writeText(response, "ok");
  if (path === "/readyz") {
    // Ready once the namespaces cache has listed the store: the store answers and the API can serve.
    if (!readyProbe(deps)) throw newServiceUnavailable("[-]store: the watch cache has not synced with the store yet\nreadyz check failed");
    return writeText(response, "ok");
  }
  if (info.verb !== "get") throw notFoundStatus();
  if (path === "/version") return writeJson(response, 200, versionInfo(deps.flotillaVersion));
  const body = path.startsWith("/openapi/") ? openApi(request, path, deps) : discovery(request, path, deps);
  if (body === undefined) throw notFoundStatus();
  if (typeof body === "object" && body !== null && "aggregated" in body) {
    return writeJson(response, 200, (body as { aggregated: unknown }).aggregated, { "Content-Type": aggregatedDiscoveryContentType });
  }
  writeJson(response, 200, body);
}

const nameRequired = new Set(["get", "update", "patch", "delete"]);

/** A resource request to its verb handler; 404 for unknown resources, 405 for verbs they lack. */
export async function serveResource(
  http: IncomingMessage,
  response: ServerResponse,
  request: ResourceRequest,
  user: UserInfo,
  signal: AbortSignal,
  deps: RouterDeps,
): Promise<void> {
  const info = findResource(request.group, request.version, request.resource);
  if (info === undefined || (!info.namespaced && request.namespace !== "" && request.resource !== "namespaces")) throw notFoundStatus();
  if (info.namespaced && request.namespace === "" && (nameRequired.has(request.verb) || request.verb === "create")) throw notFoundStatus();
  if (info.group === metricsGroup) {
    if (deps.metrics === undefined) throw newServiceUnavailable("the metrics API is not served by this server");
    return serveMetrics(response, request, new URL(http.url ?? "/", "https://localhost").searchParams, deps.metrics);
  }
  if (!info.stored || !info.verbs.includes(request.verb)) throw newMethodNotSupported({ group: info.group, resource: info.resource }, request.verb);
  const namespacesInfo = findResource("", "v1", "namespaces");
  if (namespacesInfo === undefined) throw new Error("the registry has no namespaces resource");
  const context: HandlerContext = {
    info,
    request,
    query: new URL(http.url ?? "/", "https://localhost").searchParams,
    http,
    response,
    user,
    cacher: deps.storages.cacherFor(info),
    namespaces: deps.storages.cacherFor(namespacesInfo),
    storages: deps.storages,
    signal,
    nowMs: deps.nowMs,
  };
  const special = deps.subresources === undefined ? undefined : subresourceHandler(context, deps.subresources);
  if (special !== undefined) return special();
  if (isStreamingRequest(request)) return serveStreaming(context);
  const served = request.subresource === "" || (["status", "scale", "finalize"].includes(request.subresource) && findSubresource(info, request.subresource) !== undefined);
  if (request.subresource === "finalize" && request.verb !== "update") throw newMethodNotSupported({ group: info.group, resource: `${info.resource}/finalize` }, request.verb);
  if (!served) throw newMethodNotSupported({ group: info.group, resource: `${info.resource}/${request.subresource}` }, request.verb);
  if (request.subresource === "scale" && findSubresource(info, "scale") !== undefined && ["get", "update", "patch"].includes(request.verb)) return handleScale(context);
  switch (request.verb) {
    case "get":
      return handleGet(context);
    case "list":
      return handleList(context);
    case "watch":
      return handleWatch(context);
    case "create":
      return handleCreate(context);
    case "update":
      return handleUpdate(context);
    case "patch":
      return handlePatch(context);
    case "delete":
      return handleDelete(context);
    case "deletecollection":
      return handleDeleteCollection(context);
  }
}
