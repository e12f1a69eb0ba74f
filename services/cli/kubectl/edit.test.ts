import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { describe, expect, it } from "vitest";
import { findResource, newInvalid } from "../../../libs/api/index.ts";
import type { ConfigMap, Deployment } from "../../../libs/api/index.ts";
import { edit, editFlags, editPatch } from "./edit.ts";
import { parseArgs } from "./flags.ts";
import { testContext } from "./test-support.ts";

const configMaps = findResource("", "v1", "configmaps")!;

function seeded() {
  const context = testContext({ namespace: "demo" });
  context.fake.seed(configMaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: "demo" }, data: { a: "1" } } as ConfigMap);
  return context;
}

const replacing = (from: string, to: string) => (path: string) => writeFileSync(path, readFileSync(path, "utf8").replace(from, to));

describe("edit", () => {
  it("sends the edit as a strategic merge patch and says edited", async () => {
    const context = seeded();
    let opened = "";
    expect(await edit(context, parseArgs(["cm/settings"], editFlags), (path) => ((opened = path), replacing('a: "1"', 'a: "2"')(path)))).toBe(0);
    expect(context.out()).toBe("configmap/settings edited\n");
    expect(context.fake.writes.map((write) => [write.verb, write.object])).toEqual([["patch", { data: { a: "2" } }]]);
    expect(existsSync(opened)).toBe(false);
  });

  it("cancels without a request when nothing changed", async () => {
    const context = seeded();
    expect(await edit(context, parseArgs(["configmap", "settings"], editFlags), () => undefined)).toBe(0);
    expect(context.err()).toBe("Edit cancelled, no changes made.\n");
    expect(context.fake.writes).toEqual([]);
  });

  it("reopens a refused edit with the error on top, and keeps the file when it is saved again unchanged", async () => {
    const context = seeded();
    context.fake.addReactor((verb) => (verb === "patch" ? newInvalid({ group: "", kind: "ConfigMap" }, "settings", [{ type: "FieldValueInvalid", field: "data", detail: "refused", badValue: "x" }]) : undefined));
    const seen: string[] = [];
    let path = "";
    const code = await edit(context, parseArgs(["cm", "settings"], editFlags), (opened) => {
      path = opened;
      if (seen.length === 0) replacing('a: "1"', 'a: "3"')(opened);
      seen.push(readFileSync(opened, "utf8"));
    });
    expect(code).toBe(1);
    expect(seen).toHaveLength(2);
    expect(seen[1]).toContain("# Error from server (Invalid)");
    expect(readFileSync(path, "utf8")).toContain('a: "3"');
    expect(context.err()).toBe(`A copy of your changes has been stored to "${path}"\nerror: Edit cancelled, no valid changes were saved.\n`);
    rmSync(dirname(path), { recursive: true, force: true });
  });

  it("refuses a changed name", () => {
    const deployment = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" }, spec: { replicas: 1 } } as Deployment;
    expect(editPatch(deployment, { ...deployment, spec: { replicas: 2 } } as Deployment)).toEqual({ type: "strategic", body: { spec: { replicas: 2 } } });
    expect(() => editPatch(deployment, { ...deployment, metadata: { name: "other" } })).toThrow("At least one of apiVersion, kind and name was changed");
  });
});
