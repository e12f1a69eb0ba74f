/**
 * `flotilla get`: kubectl get. Tables come from the server (as kubectl's), `-o
 * wide|yaml|json|name|jsonpath=...`, `-l`, `--field-selector`, `-A`, `-L`, `--show-labels`,
 * `--no-headers`, `-w`/`--watch-only` (the first table, then one row per change).
 */
import { apiVersionOf } from "../../../libs/api/index.ts";
import type { KubeObject, ResourceInfo, Table } from "../../../libs/api/index.ts";
import type { ListOptions } from "../../../libs/client/index.ts";
import { objectName, runVerb, type CliContext } from "./context.ts";
import { flagBool, flagList, flagValue, UsageError, type FlagSpec, type ParsedArgs } from "./flags.ts";
import { jsonPath } from "./jsonpath.ts";
import { asList, printJson, printTable, printYaml, type TablePrintOptions } from "./printers.ts";
import { parseResourceArgs, type ResourceRequest } from "./resources.ts";

export const getFlags: FlagSpec = {
  booleans: ["all-namespaces", "watch", "watch-only", "show-labels", "no-headers", "show-kind"],
  values: ["output", "selector", "field-selector", "label-columns"],
  shorts: { o: "output", l: "selector", A: "all-namespaces", w: "watch", L: "label-columns" },
};

interface GetOptions {
  readonly output: string;
  readonly listOptions: ListOptions;
  readonly allNamespaces: boolean;
  readonly table: Omit<TablePrintOptions, "kindPrefix">;
}

function getOptions(parsed: ParsedArgs): GetOptions {
  const output = flagValue(parsed, "output") ?? "";
  const known = output === "" || output === "wide" || output === "yaml" || output === "json" || output === "name" || output.startsWith("jsonpath=");
  if (!known) throw new UsageError(`unable to match a printer suitable for the output format "${output}", allowed formats are: json,jsonpath,name,wide,yaml`);
  const selector = flagValue(parsed, "selector");
  const fieldSelector = flagValue(parsed, "field-selector");
  const allNamespaces = flagBool(parsed, "all-namespaces");
  return {
    output,
    allNamespaces,
    listOptions: { ...(selector === undefined ? {} : { labelSelector: selector }), ...(fieldSelector === undefined ? {} : { fieldSelector }) },
    table: { wide: output === "wide", noHeaders: flagBool(parsed, "no-headers"), withNamespace: allNamespaces, labelColumns: flagList(parsed, "label-columns"), showLabels: flagBool(parsed, "show-labels") },
  };
}

const withType = (resource: ResourceInfo, object: KubeObject): KubeObject => ({ ...object, apiVersion: apiVersionOf(resource), kind: resource.kind });

async function fetchObjects(context: CliContext, request: ResourceRequest, namespace: string | undefined, options: GetOptions): Promise<KubeObject[]> {
  const scope = request.resource.namespaced ? namespace : undefined;
  if (request.names.length > 0) return Promise.all(request.names.map(async (name) => withType(request.resource, await context.client.get(request.resource, scope, name))));
  const list = await context.client.list(request.resource, scope, options.listOptions);
  return list.items.map((item) => withType(request.resource, item));
}

async function fetchTable(context: CliContext, request: ResourceRequest, namespace: string | undefined, options: GetOptions): Promise<Table> {
  const scope = request.resource.namespaced ? namespace : undefined;
  if (request.names.length === 0) return context.tables.list(request.resource, scope, options.listOptions);
  const tables = await Promise.all(request.names.map(async (name) => context.tables.get(request.resource, scope, name)));
  const first = tables[0] as Table;
  return { ...first, rows: tables.flatMap((table) => table.rows) };
}

function printObjects(context: CliContext, objects: readonly KubeObject[], resources: readonly ResourceInfo[], output: string, single: boolean): void {
  if (output === "name") {
    objects.forEach((object, index) => context.stdout.write(`${objectName(resources[index] as ResourceInfo, object.metadata.name ?? "")}\n`));
    return;
  }
  const document = single && objects.length === 1 ? objects[0] : asList(objects);
  if (output === "json") context.stdout.write(printJson(document));
  else if (output === "yaml") context.stdout.write(printYaml(document));
  else context.stdout.write(jsonPath(output.slice("jsonpath=".length), document));
}

function noResources(context: CliContext, namespace: string | undefined, requests: readonly ResourceRequest[]): void {
  const namespaced = requests.some((request) => request.resource.namespaced);
  context.stderr.write(namespace === undefined || !namespaced ? "No resources found\n" : `No resources found in ${namespace} namespace.\n`);
}

async function watchRows(context: CliContext, request: ResourceRequest, namespace: string | undefined, options: GetOptions, resourceVersion: string): Promise<void> {
  const scope = request.resource.namespaced ? namespace : undefined;
  const watchOptions = { ...options.listOptions, resourceVersion, ...(request.names.length === 1 ? { fieldSelector: `metadata.name=${request.names[0] ?? ""}` } : {}) };
  for await (const event of context.tables.watch(request.resource, scope, watchOptions, context.signal)) {
    if (event.type === "ERROR") throw new Error(`watch ended: ${JSON.stringify(event.object)}`);
    if (event.type === "BOOKMARK") continue;
    context.stdout.write(printTable(event.object, { ...options.table, noHeaders: true }));
  }
}

/** `-w` with `-o yaml|json|name|jsonpath`: the objects, then each changed object (YAML documents separated by `---`). */
async function watchObjects(context: CliContext, request: ResourceRequest, namespace: string | undefined, options: GetOptions, printInitial: boolean): Promise<number> {
  const scope = request.resource.namespaced ? namespace : undefined;
  const listOptions = { ...options.listOptions, ...(request.names.length === 1 ? { fieldSelector: `metadata.name=${request.names[0] ?? ""}` } : {}) };
  const list = await context.client.list(request.resource, scope, listOptions);
  const print = (object: KubeObject) => {
    if (options.output === "yaml") context.stdout.write("---\n");
    printObjects(context, [withType(request.resource, object)], [request.resource], options.output, true);
  };
  if (printInitial) list.items.forEach(print);
  const events = context.client.watch(request.resource, scope, { ...listOptions, resourceVersion: list.metadata.resourceVersion ?? "" }, context.signal);
  for await (const event of events) {
    if (event.type === "ERROR") throw new Error(`watch ended: ${JSON.stringify(event.object)}`);
    if (event.type !== "BOOKMARK") print(event.object);
  }
  return 0;
}

async function get(context: CliContext, parsed: ParsedArgs): Promise<number> {
  const requests = parseResourceArgs(parsed.positionals);
  const options = getOptions(parsed);
  const namespace = options.allNamespaces ? undefined : context.namespace;
  const watch = flagBool(parsed, "watch") || flagBool(parsed, "watch-only");
  if (watch && requests.length !== 1) throw new UsageError("you may only specify a single resource type with --watch");
  const tableOutput = options.output === "" || options.output === "wide";
  if (!tableOutput && watch) return watchObjects(context, requests[0] as ResourceRequest, namespace, options, !flagBool(parsed, "watch-only"));
  if (!tableOutput) {
    const perRequest = await Promise.all(requests.map(async (request) => fetchObjects(context, request, namespace, options)));
    const objects = perRequest.flat();
    const resources = requests.flatMap((request, index) => (perRequest[index] ?? []).map(() => request.resource));
    if (objects.length === 0 && options.output === "name") noResources(context, namespace, requests);
    else printObjects(context, objects, resources, options.output, requests.length === 1 && (requests[0]?.names.length ?? 0) === 1);
    return 0;
  }
  const prefix = requests.length > 1 || flagBool(parsed, "show-kind");
  const tables = await Promise.all(requests.map(async (request) => fetchTable(context, request, namespace, options)));
  const printed = tables
    .map((table, index) => ({ table, resource: requests[index]?.resource }))
    .filter(({ table }) => table.rows.length > 0)
    .map(({ table, resource }) => printTable(table, { ...options.table, ...(prefix && resource !== undefined ? { kindPrefix: resource } : {}) }));
  if (!flagBool(parsed, "watch-only")) {
    if (printed.length === 0 && !watch) noResources(context, namespace, requests);
    context.stdout.write(printed.join("\n"));
  }
  const [request] = requests;
  if (watch && request !== undefined) await watchRows(context, request, namespace, options, tables[0]?.metadata.resourceVersion ?? "");
  return 0;
}

export async function main(args: readonly string[]): Promise<number> {
  return runVerb(args, getFlags, get);
}

export { get };
