import { describe, expect, it } from "vitest";
import { findResource } from "../../../libs/api/index.ts";
import type { ConfigMap } from "../../../libs/api/index.ts";
import { parseArgs } from "./flags.ts";
import { patch, patchBody, patchFlags } from "./patch.ts";
import { testContext } from "./test-support.ts";

const configMaps = findResource("", "v1", "configmaps")!;

function seeded() {
  const context = testContext({ namespace: "demo" });
  context.fake.seed(configMaps, { metadata: { name: "settings", namespace: "demo" }, data: { a: "1" } } as ConfigMap);
  return context;
}

describe("patch", () => {
  it("parses -p as YAML or JSON and checks it against --type", () => {
    expect(patchBody(parseArgs(["cm", "x", "-p", '{"data":{"a":"2"}}'], patchFlags))).toEqual({ type: "strategic", body: { data: { a: "2" } } });
    expect(patchBody(parseArgs(["cm", "x", "--type=json", "-p", '[{"op":"remove","path":"/data/a"}]'], patchFlags)).type).toBe("json");
    expect(() => patchBody(parseArgs(["cm", "x", "--type=json", "-p", '{"data":{}}'], patchFlags))).toThrow("a json patch is a list of operations");
    expect(() => patchBody(parseArgs(["cm", "x", "--type=xml", "-p", "{}"], patchFlags))).toThrow('--type must be one of [json merge strategic], not "xml"');
    expect(() => patchBody(parseArgs(["cm", "x"], patchFlags))).toThrow("must specify --patch or --patch-file");
  });

  it("sends the patch with its type and says patched, or patched (no change) when nothing changed", async () => {
    const context = seeded();
    await patch(context, parseArgs(["cm/settings", "--type", "merge", "-p", '{"data":{"b":"2"}}'], patchFlags));
    await patch(context, parseArgs(["configmap", "settings", "--type", "merge", "-p", '{"data":{"b":"2"}}'], patchFlags));
    expect(context.out()).toBe("configmap/settings patched\nconfigmap/settings patched (no change)\n");
    expect(context.fake.writes.map((write) => [write.verb, write.object])).toEqual([
      ["patch", { data: { b: "2" } }],
      ["patch", { data: { b: "2" } }],
    ]);
    const stored = await context.client.get<ConfigMap>(configMaps, "demo", "settings");
    expect(stored.data).toEqual({ a: "1", b: "2" });
  });

  it("applies a json patch and prints the object with -o json", async () => {
    const context = seeded();
    await patch(context, parseArgs(["cm", "settings", "--type=json", "-p", '[{"op":"replace","path":"/data/a","value":"9"}]', "-o", "json"], patchFlags));
    expect((JSON.parse(context.out()) as ConfigMap).data).toEqual({ a: "9" });
  });
});
