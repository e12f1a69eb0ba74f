/**
 * kubectl's output formats: the human-readable table (Go's tabwriter with kubectl's settings:
 * minimum width 6, padding 3, the last column unpadded; -o wide shows priority>0 columns; -A adds
 * NAMESPACE; -L adds label columns; --show-labels adds LABELS; several types prefix names with
 * `kind.group/`), `-o yaml|json` (keys sorted, as kubectl prints unstructured objects), `-o name`.
 */
import { stringify as stringifyYaml } from "yaml";
import type { ResourceInfo, Table, TableRow } from "../../../libs/api/index.ts";
import { objectName } from "./context.ts";

const tabMinWidth = 6;
const tabPadding = 3;

/** Aligns rows of cells as kubectl's tabwriter does (`rollout history` pads by 2, no minimum). */
export function formatColumns(rows: readonly (readonly string[])[], padding = tabPadding, minWidth = tabMinWidth): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, index) => {
      if (index === row.length - 1) return;
      widths[index] = Math.max(widths[index] ?? 0, minWidth, cell.length + padding);
    });
  }
  return rows.map((row) => row.map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0))).join("") + "\n").join("");
}

export interface TablePrintOptions {
  readonly wide: boolean;
  readonly noHeaders: boolean;
  /** -A: a NAMESPACE column first. */
  readonly withNamespace: boolean;
  /** Prefix names with `kind.group/` (several resource types in one get). */
  readonly kindPrefix?: ResourceInfo;
  /** -L: one column per label key. */
  readonly labelColumns: readonly string[];
  readonly showLabels: boolean;
}

type RowMetadata = { namespace?: string; labels?: Record<string, string> };
const rowMetadata = (row: TableRow): RowMetadata => ((row.object as { metadata?: RowMetadata } | null | undefined)?.metadata ?? {});

function cellText(cell: unknown): string {
  if (cell === null || cell === undefined) return "<none>";
  return typeof cell === "string" ? cell : typeof cell === "object" ? JSON.stringify(cell) : String(cell as number | boolean);
}

/** The label column's header: the key's last path segment, upper-cased (as kubectl). */
const labelHeader = (key: string): string => (key.split("/").pop() ?? key).toUpperCase();

export function formatLabels(labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? "<none>" : entries.map(([key, value]) => `${key}=${value}`).join(",");
}

/** The header and row cells of a Table under the options. */
export function tableCells(table: Table, options: TablePrintOptions): { header: string[]; rows: string[][] } {
  const shown = table.columnDefinitions.map((column, index) => ({ column, index })).filter(({ column }) => options.wide || (column.priority ?? 0) === 0);
  const header = [
    ...(options.withNamespace ? ["NAMESPACE"] : []),
    ...shown.map(({ column }) => column.name.toUpperCase()),
    ...options.labelColumns.map(labelHeader),
    ...(options.showLabels ? ["LABELS"] : []),
  ];
  const nameIndex = table.columnDefinitions.findIndex((column) => column.name === "Name");
  const rows = table.rows.map((row) => {
    const metadata = rowMetadata(row);
    const cells = shown.map(({ index }) => {
      const text = cellText(row.cells[index]);
      return index === nameIndex && options.kindPrefix !== undefined ? objectName(options.kindPrefix, text) : text;
    });
    return [
      ...(options.withNamespace ? [metadata.namespace ?? ""] : []),
      ...cells,
      ...options.labelColumns.map((key) => metadata.labels?.[key] ?? ""),
      ...(options.showLabels ? [formatLabels(metadata.labels)] : []),
    ];
  });
  return { header, rows };
}

export function printTable(table: Table, options: TablePrintOptions): string {
  const { header, rows } = tableCells(table, options);
  return formatColumns(options.noHeaders ? rows : [header, ...rows]);
}

/** Objects with their keys sorted, recursively (Go marshals maps in key order). */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  return sorted;
}

export const printJson = (value: unknown): string => `${JSON.stringify(sortKeys(value), null, 4)}\n`;
// YAML 1.1 quotes strings that 1.1 readers would take for timestamps or booleans, as go-yaml does.
export const printYaml = (value: unknown): string => stringifyYaml(sortKeys(value), { indentSeq: false, lineWidth: 0, version: "1.1" });

/** kubectl's wrapper when several objects print as one document. */
export function asList(items: readonly unknown[]): Record<string, unknown> {
  return { apiVersion: "v1", items, kind: "List", metadata: { resourceVersion: "" } };
}
