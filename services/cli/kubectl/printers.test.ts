import { describe, expect, it } from "vitest";
import type { Table } from "../../../libs/api/index.ts";
import { findResource } from "../../../libs/api/index.ts";
import { formatColumns, formatLabels, printJson, printTable, printYaml } from "./printers.ts";

const table: Table = {
  kind: "Table",
  apiVersion: "meta.k8s.io/v1",
  metadata: {},
  columnDefinitions: [
    { name: "Name", type: "string", format: "name", description: "", priority: 0 },
    { name: "Ready", type: "string", format: "", description: "", priority: 0 },
    { name: "Images", type: "string", format: "", description: "", priority: 1 },
  ],
  rows: [
    { cells: ["web", "0/2", "busybox"], object: { metadata: { name: "web", namespace: "demo", labels: { app: "web", "app.kubernetes.io/tier": "front" } } } },
    { cells: ["db-long-name", "1/1", "redis"], object: { metadata: { name: "db-long-name", namespace: "prod" } } },
  ],
};
const base = { wide: false, noHeaders: false, withNamespace: false, labelColumns: [], showLabels: false };

describe("printers", () => {
  it("pads columns as kubectl's tabwriter: at least 6 wide, 3 spaces after the longest cell, last column unpadded", () => {
    expect(formatColumns([["A", "BB"], ["ccccc", "d"]])).toBe("A       BB\nccccc   d\n");
    expect(formatColumns([["NAME", "X"]])).toBe("NAME   X\n");
  });

  it("hides priority columns unless wide, and upper-cases headers", () => {
    expect(printTable(table, base)).toBe("NAME           READY\nweb            0/2\ndb-long-name   1/1\n");
    expect(printTable(table, { ...base, wide: true }).split("\n")[0]).toBe("NAME           READY   IMAGES");
  });

  it("adds NAMESPACE for -A, label columns for -L, LABELS for --show-labels and kind prefixes", () => {
    const printed = printTable(table, { ...base, withNamespace: true, labelColumns: ["app", "app.kubernetes.io/tier"], showLabels: true, kindPrefix: findResource("apps", "v1", "deployments")! });
    expect(printed.split("\n")).toEqual([
      "NAMESPACE   NAME                           READY   APP   TIER    LABELS",
      "demo        deployment.apps/web            0/2     web   front   app=web,app.kubernetes.io/tier=front",
      "prod        deployment.apps/db-long-name   1/1                   <none>",
      "",
    ]);
    expect(formatLabels({ b: "2", a: "1" })).toBe("a=1,b=2");
  });

  it("prints JSON with 4-space indent and YAML with sorted keys and quoted timestamps", () => {
    expect(printJson({ b: 1, a: { d: 2, c: 3 } })).toBe('{\n    "a": {\n        "c": 3,\n        "d": 2\n    },\n    "b": 1\n}\n');
    expect(printYaml({ metadata: { name: "x", creationTimestamp: "2026-11-22T00:00:00Z" }, items: [{ a: 1 }] })).toBe('items:\n- a: 1\nmetadata:\n  creationTimestamp: "2026-11-22T00:00:00Z"\n  name: x\n');
  });
});
