/**
 * `flotilla top nodes|pods`: usage from metrics.k8s.io printed as kubectl top prints it: CPU in
 * millicores, memory in Mi, nodes with their share of allocatable, `-l`, `-A`, `--containers`,
 * `--sort-by cpu|memory`, `--no-headers`. Every column is tab-terminated (kubectl's top writes a
 * tab after each value), so rows carry trailing padding as kubectl's do.
 */
import { findResource, parseQuantity } from "../../../libs/api/index.ts";
import type { KubeObject, Node, ResourceInfo } from "../../../libs/api/index.ts";
import { defined } from "../../../libs/assert/index.ts";
import { runVerb, type CliContext } from "./context.ts";
import { flagBool, flagValue, UsageError, type FlagSpec, type ParsedArgs } from "./flags.ts";
import { formatColumns } from "./printers.ts";

export const topFlags: FlagSpec = {
  booleans: ["all-namespaces", "no-headers", "containers"],
  values: ["selector", "sort-by"],
  shorts: { l: "selector", A: "all-namespaces" },
};

const nodeMetricsResource: ResourceInfo = defined(findResource("metrics.k8s.io", "v1beta1", "nodes"), "registry serves NodeMetrics");
const podMetricsResource: ResourceInfo = defined(findResource("metrics.k8s.io", "v1beta1", "pods"), "registry serves PodMetrics");
const nodesResource: ResourceInfo = defined(findResource("", "v1", "nodes"), "registry serves nodes");
const mebibyte = 1024 * 1024;

type Usage = Record<string, string>;
interface NodeMetrics extends KubeObject {
  usage?: Usage;
}
interface PodMetrics extends KubeObject {
  containers?: { name: string; usage?: Usage }[];
}

interface UsageFigures {
  cpuMilli: number;
  memoryBytes: number;
}

function figures(usage: Usage | undefined): UsageFigures {
  return { cpuMilli: parseQuantity(usage?.["cpu"] ?? "0").milliValue(), memoryBytes: parseQuantity(usage?.["memory"] ?? "0").value() };
}

function sum(all: readonly UsageFigures[]): UsageFigures {
  return all.reduce((total, next) => ({ cpuMilli: total.cpuMilli + next.cpuMilli, memoryBytes: total.memoryBytes + next.memoryBytes }), { cpuMilli: 0, memoryBytes: 0 });
}

const cpuText = (usage: UsageFigures): string => `${usage.cpuMilli}m`;
const memoryText = (usage: UsageFigures): string => `${Math.trunc(usage.memoryBytes / mebibyte)}Mi`;

function sortRows<T>(rows: T[], sortBy: string | undefined, usageOf: (row: T) => UsageFigures): T[] {
  if (sortBy === undefined || sortBy === "") return rows;
  if (sortBy !== "cpu" && sortBy !== "memory") throw new UsageError("--sort-by accepts only cpu or memory");
  const key = (row: T): number => (sortBy === "cpu" ? usageOf(row).cpuMilli : usageOf(row).memoryBytes);
  return [...rows].sort((left, right) => key(right) - key(left));
}

/** Appends an empty cell so every real column is padded, as kubectl's tab-terminated values are. */
function print(context: CliContext, header: string[], rows: string[][], noHeaders: boolean): void {
  context.stdout.write(formatColumns([...(noHeaders ? [] : [header]), ...rows].map((row) => [...row, ""])));
}

function percent(part: number, whole: number): string {
  return whole <= 0 ? "<unknown>" : `${Math.trunc((part / whole) * 100)}%`;
}

async function topNodes(context: CliContext, parsed: ParsedArgs): Promise<number> {
  const selector = flagValue(parsed, "selector");
  const options = selector === undefined ? {} : { labelSelector: selector };
  const name = parsed.positionals[1];
  const metrics = (await context.client.list<NodeMetrics>(nodeMetricsResource, undefined, options)).items.filter((item) => name === undefined || item.metadata.name === name);
  const nodes = (await context.client.list<Node>(nodesResource, undefined, options)).items.filter((node) => name === undefined || node.metadata.name === name);
  if (nodes.length === 0) throw new UsageError(name === undefined ? "metrics not available yet" : `nodes "${name}" not found`);
  const byName = new Map(metrics.map((item) => [item.metadata.name ?? "", figures(item.usage)]));
  const known = sortRows(
    nodes.filter((node) => byName.has(node.metadata.name ?? "")),
    flagValue(parsed, "sort-by"),
    (node) => byName.get(node.metadata.name ?? "") ?? { cpuMilli: 0, memoryBytes: 0 },
  );
  const rows = known.map((node) => {
    const usage = byName.get(node.metadata.name ?? "") ?? { cpuMilli: 0, memoryBytes: 0 };
    const allocatable = figures(node.status?.allocatable as Usage | undefined);
    return [node.metadata.name ?? "", cpuText(usage), percent(usage.cpuMilli, allocatable.cpuMilli), memoryText(usage), percent(usage.memoryBytes, allocatable.memoryBytes)];
  });
  for (const node of nodes) if (!byName.has(node.metadata.name ?? "")) rows.push([node.metadata.name ?? "", "<unknown>", "<unknown>", "<unknown>", "<unknown>"]);
  print(context, ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"], rows, flagBool(parsed, "no-headers"));
  return 0;
}

async function topPods(context: CliContext, parsed: ParsedArgs): Promise<number> {
  const selector = flagValue(parsed, "selector");
  const allNamespaces = flagBool(parsed, "all-namespaces");
  const name = parsed.positionals[1];
  const listed = await context.client.list<PodMetrics>(podMetricsResource, allNamespaces ? undefined : context.namespace, selector === undefined ? {} : { labelSelector: selector });
  const items = sortRows(
    listed.items.filter((item) => name === undefined || item.metadata.name === name),
    flagValue(parsed, "sort-by"),
    (item) => sum((item.containers ?? []).map((container) => figures(container.usage))),
  );
  if (items.length === 0) {
    if (name !== undefined) throw new UsageError(`podmetrics.metrics.k8s.io "${name}" not found`);
    context.stderr.write(allNamespaces ? "No resources found\n" : `No resources found in ${context.namespace} namespace.\n`);
    return 0;
  }
  const prefix = (item: PodMetrics): string[] => (allNamespaces ? [item.metadata.namespace ?? ""] : []);
  const header = [...(allNamespaces ? ["NAMESPACE"] : []), ...(flagBool(parsed, "containers") ? ["POD", "NAME"] : ["NAME"]), "CPU(cores)", "MEMORY(bytes)"];
  const rows = flagBool(parsed, "containers")
    ? items.flatMap((item) => (item.containers ?? []).map((container) => [...prefix(item), item.metadata.name ?? "", container.name, cpuText(figures(container.usage)), memoryText(figures(container.usage))]))
    : items.map((item) => {
        const usage = sum((item.containers ?? []).map((container) => figures(container.usage)));
        return [...prefix(item), item.metadata.name ?? "", cpuText(usage), memoryText(usage)];
      });
  print(context, header, rows, flagBool(parsed, "no-headers"));
  return 0;
}

async function top(context: CliContext, parsed: ParsedArgs): Promise<number> {
  const what = parsed.positionals[0];
  if (what === "node" || what === "nodes" || what === "no") return topNodes(context, parsed);
  if (what === "pod" || what === "pods" || what === "po") return topPods(context, parsed);
  throw new UsageError("flotilla top nodes|pods [NAME] [-l selector] [-A] [--containers] [--sort-by cpu|memory] [--no-headers]");
}

export async function main(args: readonly string[]): Promise<number> {
  return runVerb(args, topFlags, top);
}

export { top };
