/**
 * OpenAPI: `/openapi/v3` lists one document per group version (each URL carries a hash of the
 * document, so kubectl caches it until it changes), `/openapi/v3/<api/v1 | apis/g/v>` is that
 * document, and `/openapi/v2` is one Swagger 2.0 document of every kind (JSON only).
 *
 * Each document has the resource paths with `x-kubernetes-group-version-kind` and
 * `x-kubernetes-action` on every operation, the `fieldValidation` query parameter (kubectl 1.32
 * reads it to decide the server validates fields, so it sends `fieldValidation=Strict` instead of
 * validating itself), `application/strategic-merge-patch+json` among PATCH's request types (so
 * kubectl computes strategic merge patches from these schemas), and the schemas of libs/api/openapi:
 * fields, required, descriptions and the strategic merge extensions `kubectl explain` and
 * `kubectl apply` read.
 */
import { createHash } from "node:crypto";
import { definitionNameOf, kindDefinition, schemasFor, type GroupVersionKind } from "../../libs/api/openapi/index.ts";
import { allResources, apiGroupList, servedVersions, type ResourceInfo } from "../../libs/api/registry.ts";

/** `api/v1`, `apis/apps/v1`: the key of a group version in the `/openapi/v3` index. */
export function openApiPathOf(group: string, version: string): string {
  return group === "" ? `api/${version}` : `apis/${group}/${version}`;
}

/** Every group version served, as [group, version]. */
function groupVersionPairs(): Array<[string, string]> {
  const groups = ["", ...apiGroupList().groups.map((group) => group.name)];
  return groups.flatMap((group) => servedVersions(group).map((version): [string, string] => [group, version]));
}

const documents = new Map<string, { document: Record<string, unknown>; hash: string }>();

function cachedDocument(group: string, version: string): { document: Record<string, unknown>; hash: string } | undefined {
  if (!servedVersions(group).includes(version)) return undefined;
  const key = openApiPathOf(group, version);
  let entry = documents.get(key);
  if (entry === undefined) {
    const document = buildDocument(group, version);
    // Upstream's hash is of the document's bytes: clients refetch exactly when it changes.
    const hash = createHash("sha512").update(JSON.stringify(document)).digest("hex").toUpperCase();
    entry = { document, hash };
    documents.set(key, entry);
  }
  return entry;
}

/**
 * `/openapi/v3`: the index of group version documents, each URL with a hash of its document and
 * of `serverHash` (the server's build), so a client's cached copy is refetched when either changes.
 */
export function openApiIndex(serverHash: string): Record<string, unknown> {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [group, version] of groupVersionPairs()) {
    const path = openApiPathOf(group, version);
    const documentHash = cachedDocument(group, version)?.hash ?? "";
    const hash = createHash("sha512").update(`${serverHash}:${documentHash}`).digest("hex").toUpperCase();
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
  }
  return { paths };
}

const contentTypes = ["application/json", "application/yaml"];
const patchTypes = ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"];

type Flavour = "v3" | "v2";

function schemaRef(flavour: Flavour, info: ResourceInfo): Record<string, string> {
  const name = definitionNameOf(info.group, info.version, info.kind);
  return { $ref: flavour === "v3" ? `#/components/schemas/${name}` : `#/definitions/${name}` };
}

function parameter(name: string, where: "query" | "path", flavour: Flavour): Record<string, unknown> {
  const type = flavour === "v3" ? { schema: { type: "string", uniqueItems: true } } : { type: "string", uniqueItems: true };
  return { name, in: where, description: `${name} (see the Kubernetes API reference)`, ...(where === "path" ? { required: true } : {}), ...type };
}

function operation(info: ResourceInfo, action: string, flavour: Flavour, parameters: Array<Record<string, unknown>>, requestTypes: readonly string[] = []): Record<string, unknown> {
  const ref = schemaRef(flavour, info);
  const ok =
    flavour === "v3"
      ? { description: "OK", content: Object.fromEntries(contentTypes.map((type) => [type, { schema: ref }])) }
      : { description: "OK", schema: ref };
  const op: Record<string, unknown> = {
    operationId: `${action}${info.kind}`,
    parameters,
    responses: { "200": ok },
    "x-kubernetes-action": action,
    "x-kubernetes-group-version-kind": { group: info.group, version: info.version, kind: info.kind },
  };
  if (requestTypes.length === 0) return op;
  if (flavour === "v3") op["requestBody"] = { content: Object.fromEntries(requestTypes.map((type) => [type, { schema: ref }])), required: true };
  else {
    op["consumes"] = [...requestTypes];
    (op["parameters"] as Array<Record<string, unknown>>).push({ name: "body", in: "body", required: true, schema: ref });
  }
  return op;
}

function resourcePaths(info: ResourceInfo, flavour: Flavour): Record<string, unknown> {
  const root = `/${openApiPathOf(info.group, info.version)}`;
  const scope = info.namespaced ? "/namespaces/{namespace}" : "";
  const query = (names: readonly string[]): Array<Record<string, unknown>> => names.map((name) => parameter(name, "query", flavour));
  const scopeParameters = info.namespaced ? [parameter("namespace", "path", flavour)] : [];
  const item = [...scopeParameters, parameter("name", "path", flavour)];
  const write = ["dryRun", "fieldManager", "fieldValidation"];
  return {
    [`${root}${scope}/${info.resource}`]: {
      get: operation(info, "list", flavour, [...scopeParameters, ...query(["labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "watch"])]),
      post: operation(info, "post", flavour, [...scopeParameters, ...query(write)], contentTypes),
    },
    [`${root}${scope}/${info.resource}/{name}`]: {
      get: operation(info, "get", flavour, item),
      put: operation(info, "put", flavour, [...item, ...query(write)], contentTypes),
      patch: operation(info, "patch", flavour, [...item, ...query([...write, "force"])], patchTypes),
      delete: operation(info, "delete", flavour, item),
    },
  };
}

function servedResources(group?: string, version?: string): ResourceInfo[] {
  return allResources().filter((info) => info.stored && (group === undefined || (info.group === group && info.version === version)) && kindDefinition(info) !== undefined);
}

/** The group/version/kinds a definition is served as, among `resources`. */
function kindsOf(resources: readonly ResourceInfo[]): (name: string) => GroupVersionKind[] {
  return (name) =>
    resources.filter((info) => definitionNameOf(info.group, info.version, info.kind) === name).map((info) => ({ group: info.group, version: info.version, kind: info.kind }));
}

function buildDocument(group: string, version: string): Record<string, unknown> {
  const resources = servedResources(group, version);
  let paths: Record<string, unknown> = {};
  for (const info of resources) paths = { ...paths, ...resourcePaths(info, "v3") };
  const roots = resources.map((info) => definitionNameOf(info.group, info.version, info.kind));
  return {
    openapi: "3.0.0",
    info: { title: "Flotilla", version: "v1.32.0" },
    paths,
    components: { schemas: schemasFor(roots, "v3", kindsOf(resources)) },
  };
}

/** The document of one group version, or undefined when it is not served. */
export function openApiDocument(group: string, version: string): Record<string, unknown> | undefined {
  return cachedDocument(group, version)?.document;
}

let swaggerDocument: Record<string, unknown> | undefined;

/** `/openapi/v2`: one Swagger 2.0 document of every served kind, with upstream's definition names. */
export function swaggerV2Document(): Record<string, unknown> {
  if (swaggerDocument === undefined) {
    const resources = servedResources();
    let paths: Record<string, unknown> = {};
    for (const info of resources) paths = { ...paths, ...resourcePaths(info, "v2") };
    const roots = resources.map((info) => definitionNameOf(info.group, info.version, info.kind));
    swaggerDocument = {
      swagger: "2.0",
      info: { title: "Flotilla", version: "v1.32.0" },
      paths,
      definitions: schemasFor(roots, "v2", kindsOf(resources)),
    };
  }
  return swaggerDocument;
}
