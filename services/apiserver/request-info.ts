/**
 * What a request is about, from its method and path, as k8s.io/apiserver's RequestInfoFactory
 * reads it: `/api/v1/namespaces/ns/pods/name/status` is a resource request (verb get, group "",
 * version v1, namespace ns, resource pods, name, subresource status); `/version` or `/openapi/v3`
 * is a non-resource request. Pure: no I/O.
 */

export type ResourceVerb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "deletecollection";

export interface ResourceRequest {
  readonly kind: "resource";
  readonly verb: ResourceVerb;
  /** "" for the legacy core group. */
  readonly group: string;
  readonly version: string;
  /** "" for cluster-scoped requests and for lists across all namespaces. */
  readonly namespace: string;
  readonly resource: string;
  /** "" for collection requests. */
  readonly name: string;
  readonly subresource: string;
}

export interface NonResourceRequest {
  readonly kind: "nonResource";
  readonly verb: string;
  readonly path: string;
}

export type RequestInfo = ResourceRequest | NonResourceRequest;

/** Path segments beyond this are never a valid resource path (the longest is 8: /apis/g/v/namespaces/ns/r/n/sub). */
export const pathSegmentsMax = 16;

const lowerMethodVerbs: Readonly<Record<string, string>> = { GET: "get", HEAD: "get", POST: "post", PUT: "put", PATCH: "patch", DELETE: "delete" };

function nonResource(method: string, path: string): NonResourceRequest {
  return { kind: "nonResource", verb: lowerMethodVerbs[method] ?? method.toLowerCase(), path };
}

function decodeSegments(path: string): string[] | undefined {
  const trimmed = path.replace(/^\/+/, "").replace(/\/+$/, "");
  if (trimmed === "") return [];
  const raw = trimmed.split("/");
  if (raw.length > pathSegmentsMax) return undefined;
  try {
    return raw.map((segment) => decodeURIComponent(segment));
  } catch {
    return undefined;
  }
}

function resourceVerb(method: string, hasName: boolean, watchParam: boolean, watchPrefix: boolean): ResourceVerb | undefined {
  switch (method) {
    case "GET":
    case "HEAD":
      if (watchPrefix || watchParam) return "watch";
      return hasName ? "get" : "list";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return hasName ? "delete" : "deletecollection";
    default:
      return undefined;
  }
}

/** `watch=true|1` as upstream accepts it. */
export function isWatchParam(value: string | null): boolean {
  return value === "true" || value === "1";
}

/**
 * Reads method, path and query. Paths under /api and /apis that name a group and version are
 * resource requests; everything else (discovery, /version, health, /openapi) is non-resource.
 */
export function parseRequestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const segments = decodeSegments(path);
  if (segments === undefined) return nonResource(method, path);
  const [prefix] = segments;
  let rest: string[];
  let group: string;
  let version: string;
  if (prefix === "api" && segments.length >= 3) {
    group = "";
    version = segments[1] ?? "";
    rest = segments.slice(2);
  } else if (prefix === "apis" && segments.length >= 4) {
    group = segments[1] ?? "";
    version = segments[2] ?? "";
    rest = segments.slice(3);
  } else {
    return nonResource(method, path);
  }
  const watchPrefix = rest[0] === "watch";
  if (watchPrefix) rest = rest.slice(1);
  let namespace = "";
  // "namespaces/<ns>/<resource>..." is a namespaced request; "namespaces" or "namespaces/<ns>"
  // (or "namespaces/<ns>/status") is the namespaces resource itself.
  if (rest[0] === "namespaces" && rest.length >= 3 && !["status", "finalize"].includes(rest[2] ?? "")) {
    namespace = rest[1] ?? "";
    rest = rest.slice(2);
  } else if (rest[0] === "namespaces" && rest.length >= 2) {
    namespace = rest[1] ?? "";
  }
  const [resource = "", name = "", subresource = "", ...extra] = rest;
  if (resource === "" || extra.length > 0) return nonResource(method, path);
  const verb = resourceVerb(method, name !== "", isWatchParam(query.get("watch")), watchPrefix);
  if (verb === undefined) return nonResource(method, path);
  return { kind: "resource", verb, group, version, namespace, resource, name, subresource };
}
