import { describe, expect, test } from "vitest";
import * as api from "./index.ts";
import * as patch from "./patch/index.ts";

describe("libs/api entry", () => {
  test("re-exports every value the patch library exports, under the same name", () => {
    const missing = Object.keys(patch).filter((name) => !(name in api) || (api as Record<string, unknown>)[name] !== (patch as Record<string, unknown>)[name]);
    expect(missing).toEqual([]);
  });

  test("every served resource's table has as many cells per row as columns", () => {
    const mismatches: string[] = [];
    for (const info of api.allResources()) {
      const columns = api.tableColumns(info.group, info.resource);
      const object = { metadata: { name: "x" }, spec: { containers: [], template: {}, jobTemplate: {} }, involvedObject: {}, roleRef: {}, endpoints: [] };
      const row = api.tableRow(info.group, info.resource, object as unknown as api.KubeObject, { nowMs: 0 });
      if (row.cells.length !== columns.length) mismatches.push(`${info.resource}.${info.group}: ${row.cells.length} cells, ${columns.length} columns`);
    }
    expect(mismatches).toEqual([]);
  });

  test("every served resource resolves by its plural, singular and short names", () => {
    // metrics.k8s.io's nodes and pods yield their plurals to the core group, as kubectl's RESTMapper does.
    const sharesCorePlural = (info: api.ResourceInfo, name: string): boolean => info.group !== "" && api.resolveResource(name)?.group === "" && name === info.resource;
    const unresolved = api
      .allResources()
      .filter((info) => api.preferredVersion(info.group) === info.version)
      .flatMap((info) => [info.resource, info.singular, ...info.shortNames].filter((name) => api.resolveResource(name) !== info && !sharesCorePlural(info, name)));
    expect(unresolved).toEqual([]);
  });
});
