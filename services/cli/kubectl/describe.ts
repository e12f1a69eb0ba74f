/**
 * `flotilla describe TYPE [NAME]` (or `-l`): kubectl's header (Name, Namespace, Labels,
 * Annotations, CreationTimestamp), then the object's other fields in kubectl's generic describer
 * layout (capitalized keys, two-space nesting), then the Events whose involvedObject is the
 * object. Not yet the per-kind describers (pods' container blocks, deployments' summary lines).
 */
import { parseTime, translateTimestampSince } from "../../../libs/api/index.ts";
import type { Event, KubeObject, ResourceInfo } from "../../../libs/api/index.ts";
import { runVerb, type CliContext } from "./context.ts";
import { flagBool, flagValue, type FlagSpec, type ParsedArgs } from "./flags.ts";
import { formatColumns } from "./printers.ts";
import { parseResourceArgs, resolveOne } from "./resources.ts";

export const describeFlags: FlagSpec = {
  booleans: ["all-namespaces", "show-events"],
  values: ["selector"],
  shorts: { l: "selector", A: "all-namespaces" },
};

/** Bound on nesting printed, as a guard against pathological objects. */
const describeDepthMax = 32;
const labelWidth = 14;

const capitalize = (key: string): string => (key === "" ? key : key[0]?.toUpperCase() + key.slice(1));

// kubectl describe leaves out apply's bookkeeping annotation.
const hiddenAnnotations = new Set(["kubectl.kubernetes.io/last-applied-configuration"]);

function mapLines(title: string, map: Record<string, string> | undefined, separator: string): string {
  const entries = Object.entries(map ?? {})
    .filter(([key]) => !hiddenAnnotations.has(key))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  if (entries.length === 0) return `${`${title}:`.padEnd(labelWidth)}<none>\n`;
  return entries.map(([key, value], index) => `${index === 0 ? `${title}:`.padEnd(labelWidth) : " ".repeat(labelWidth)}${key}${separator}${value.trimEnd()}\n`).join("");
}

/** The generic describer's lines for a value, at `indent` spaces. */
export function describeValue(key: string, value: unknown, indent: number, depth = 0): string {
  const pad = " ".repeat(indent);
  if (depth > describeDepthMax) return `${pad}${capitalize(key)}:  ...\n`;
  if (Array.isArray(value)) {
    if (value.length === 0) return `${pad}${capitalize(key)}:  <none>\n`;
    if (value.every((item) => typeof item !== "object" || item === null)) return `${pad}${capitalize(key)}:  ${value.map(String).join(", ")}\n`;
    return `${pad}${capitalize(key)}:\n${value.map((item) => describeFields(item as Record<string, unknown>, indent + 2, depth + 1)).join("")}`;
  }
  if (value !== null && typeof value === "object") {
    const fields = describeFields(value as Record<string, unknown>, indent + 2, depth + 1);
    return fields === "" ? `${pad}${capitalize(key)}:  <none>\n` : `${pad}${capitalize(key)}:\n${fields}`;
  }
  return `${pad}${capitalize(key)}:  ${String(value as string | number | boolean | null)}\n`;
}

function describeFields(object: Record<string, unknown>, indent: number, depth: number): string {
  return Object.keys(object)
    .sort()
    .map((key) => describeValue(key, object[key], indent, depth))
    .join("");
}

function eventsSection(events: readonly Event[], nowMs: number): string {
  if (events.length === 0) return "Events:  <none>\n";
  const rows = events.map((event) => {
    const age = translateTimestampSince(event.lastTimestamp ?? event.eventTime ?? event.metadata.creationTimestamp, nowMs);
    const count = event.count ?? 1;
    return ["", event.type ?? "", event.reason ?? "", count > 1 ? `${age} (x${count})` : age, event.source?.component ?? event.reportingComponent ?? "", event.message ?? ""];
  });
  return `Events:\n${formatColumns([["", "Type", "Reason", "Age", "From", "Message"], ["", "----", "------", "----", "----", "-------"], ...rows], 2, 0)}`;
}

export function describeObject(resource: ResourceInfo, object: KubeObject, events: readonly Event[] | undefined, nowMs: number): string {
  const { metadata, apiVersion: _apiVersion, kind: _kind, ...rest } = object as KubeObject & Record<string, unknown>;
  const createdMs = parseTime(metadata.creationTimestamp);
  let text = `${"Name:".padEnd(labelWidth)}${metadata.name ?? ""}\n`;
  if (resource.namespaced) text += `${"Namespace:".padEnd(labelWidth)}${metadata.namespace ?? ""}\n`;
  text += mapLines("Labels", metadata.labels, "=");
  text += mapLines("Annotations", metadata.annotations, ": ");
  if (createdMs !== undefined) text += `${"CreationTimestamp:".padEnd(labelWidth)}  ${new Date(createdMs).toUTCString()}\n`;
  text += describeFields(rest, 0, 0);
  if (events !== undefined) text += eventsSection(events, nowMs);
  return text;
}

async function eventsFor(context: CliContext, object: KubeObject): Promise<Event[]> {
  const namespace = object.metadata.namespace ?? "default";
  const fieldSelector = `involvedObject.name=${object.metadata.name ?? ""},involvedObject.namespace=${namespace}`;
  const list = await context.client.list<Event>(resolveOne("events"), namespace, { fieldSelector });
  const uid = object.metadata.uid;
  return list.items
    .filter((event) => uid === undefined || event.involvedObject?.uid === undefined || event.involvedObject.uid === uid)
    .sort((a, b) => (parseTime(a.lastTimestamp ?? a.eventTime) ?? 0) - (parseTime(b.lastTimestamp ?? b.eventTime) ?? 0));
}

async function describe(context: CliContext, parsed: ParsedArgs): Promise<number> {
  const namespace = flagBool(parsed, "all-namespaces") ? undefined : context.namespace;
  const selector = flagValue(parsed, "selector");
  const showEvents = flagValue(parsed, "show-events") !== "false";
  const sections: string[] = [];
  for (const request of parseResourceArgs(parsed.positionals)) {
    const scope = request.resource.namespaced ? namespace : undefined;
    const objects =
      request.names.length > 0
        ? await Promise.all(request.names.map(async (name) => context.client.get(request.resource, scope, name)))
        : (await context.client.list(request.resource, scope, selector === undefined ? {} : { labelSelector: selector })).items;
    for (const object of objects) {
      const events = showEvents && request.resource.resource !== "events" ? await eventsFor(context, object) : undefined;
      sections.push(describeObject(request.resource, object, events, context.nowMs()));
    }
  }
  if (sections.length === 0) context.stderr.write(`No resources found in ${namespace ?? "any"} namespace.\n`);
  context.stdout.write(sections.join("\n\n"));
  return 0;
}

export async function main(args: readonly string[]): Promise<number> {
  return runVerb(args, describeFlags, describe);
}

export { describe };
