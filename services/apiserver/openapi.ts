/**
 * OpenAPI v3, minimal but valid: `/openapi/v3` lists one document per group version, and each
 * document has the resource paths with `x-kubernetes-group-version-kind` and `x-kubernetes-action`
 * on every operation, the `fieldValidation` query parameter on PATCH (kubectl 1.32 reads that to
 * decide the server validates fields, so it sends `fieldValidation=Strict` instead of validating
 * itself), and one schema per kind that preserves unknown fields.
 *
 * Not yet: full schemas (so `kubectl explain` shows no fields and Strict cannot refuse unknown
 * fields). PATCH does not list strategic-merge-patch as a request type, so kubectl computes its
 * strategic merge patches from its own compiled-in types rather than from these (empty) schemas.
 */
import { allResources, apiGroupList, apiVersionOf, servedVersions, type ResourceInfo } from "../../libs/api/registry.ts";

/** `api/v1`, `apis/apps/v1`: the key of a group version in the `/openapi/v3` index. */
export function openApiPathOf(group: string, version: string): string {
  return group === "" ? `api/${version}` : `apis/${group}/${version}`;
}

/** Every group version served, as [group, version]. */
function groupVersionPairs(): Array<[string, string]> {
  const groups = ["", ...apiGroupList().groups.map((group) => group.name)];
  return groups.flatMap((group) => servedVersions(group).map((version): [string, string] => [group, version]));
}

/** `/openapi/v3`: the index of group version documents. `hash` lets clients cache them. */
export function openApiIndex(hash: string): Record<string, unknown> {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [group, version] of groupVersionPairs()) {
    const path = openApiPathOf(group, version);
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
  }
  return { paths };
}

function schemaName(info: ResourceInfo): string {
  const group = info.group === "" ? "core" : info.group;
  return `io.flotilla.${group}.${info.version}.${info.kind}`;
}

const contentTypes = ["application/json", "application/yaml"];

function operation(info: ResourceInfo, action: string, parameters: Array<Record<string, unknown>>, requestTypes: readonly string[] = []): Record<string, unknown> {
  const ref = { $ref: `#/components/schemas/${schemaName(info)}` };
  const op: Record<string, unknown> = {
    operationId: `${action}${info.kind}`,
    parameters,
    responses: { "200": { description: "OK", content: Object.fromEntries(contentTypes.map((type) => [type, { schema: ref }])) } },
    "x-kubernetes-action": action,
    "x-kubernetes-group-version-kind": { group: info.group, version: info.version, kind: info.kind },
  };
  if (requestTypes.length > 0) op["requestBody"] = { content: Object.fromEntries(requestTypes.map((type) => [type, { schema: ref }])), required: true };
  return op;
}

const queryParameter = (name: string): Record<string, unknown> => ({ name, in: "query", schema: { type: "string" }, description: name });
const pathParameter = (name: string): Record<string, unknown> => ({ name, in: "path", required: true, schema: { type: "string" } });
const patchTypes = ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"];

function resourcePaths(info: ResourceInfo): Record<string, unknown> {
  const root = `/${openApiPathOf(info.group, info.version)}`;
  const scope = info.namespaced ? "/namespaces/{namespace}" : "";
  const scopeParameters = info.namespaced ? [pathParameter("namespace")] : [];
  const item = [...scopeParameters, pathParameter("name")];
  const writeParameters = ["dryRun", "fieldManager", "fieldValidation"].map(queryParameter);
  return {
    [`${root}${scope}/${info.resource}`]: {
      get: operation(info, "list", [...scopeParameters, ...["labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "watch"].map(queryParameter)]),
      post: operation(info, "post", [...scopeParameters, ...writeParameters], contentTypes),
    },
    [`${root}${scope}/${info.resource}/{name}`]: {
      get: operation(info, "get", item),
      put: operation(info, "put", [...item, ...writeParameters], contentTypes),
      patch: operation(info, "patch", [...item, ...writeParameters, queryParameter("force")], patchTypes),
      delete: operation(info, "delete", item),
    },
  };
}

/** The document of one group version, or undefined when it is not served. */
export function openApiDocument(group: string, version: string): Record<string, unknown> | undefined {
  if (!servedVersions(group).includes(version)) return undefined;
  const resources = allResources().filter((info) => info.group === group && info.version === version && info.stored);
  const schemas: Record<string, unknown> = {};
  let paths: Record<string, unknown> = {};
  for (const info of resources) {
    paths = { ...paths, ...resourcePaths(info) };
    schemas[schemaName(info)] = {
      type: "object",
      description: `${info.kind} (${apiVersionOf(info)}); Flotilla does not publish its fields yet.`,
      "x-kubernetes-preserve-unknown-fields": true,
      "x-kubernetes-group-version-kind": [{ group: info.group, version: info.version, kind: info.kind }],
    };
  }
  return {
    openapi: "3.0.0",
    info: { title: "Flotilla", version: "v1.32.0" },
    paths,
    components: { schemas },
  };
}
