import { describe, expect, it } from "vitest";
import { findResource } from "../../../libs/api/index.ts";
import type { ConfigMap, Deployment } from "../../../libs/api/index.ts";
import { create, createFlags, deploymentObject, servicePorts } from "./create.ts";
import { deleteFlags, deleteVerb } from "./delete.ts";
import { parseArgs } from "./flags.ts";
import { get, getFlags } from "./get.ts";
import { label, labelFlags, metadataPatch } from "./label.ts";
import { setContext } from "./config.ts";
import { describeObject } from "./describe.ts";
import { deploymentStatus } from "./rollout.ts";
import { testContext } from "./test-support.ts";

const deployments = findResource("apps", "v1", "deployments")!;
const configMaps = findResource("", "v1", "configmaps")!;

function seeded() {
  const context = testContext({ namespace: "demo" });
  context.fake.seed(deployments, deploymentObject("web", "demo", ["flotilla/busybox:1"], 2, 80, []) as Deployment);
  context.fake.seed(configMaps, { metadata: { name: "settings", namespace: "demo", labels: { app: "web" } }, data: { a: "1" } } as ConfigMap);
  context.fake.seed(configMaps, { metadata: { name: "other", namespace: "demo", labels: { app: "db" } } } as ConfigMap);
  return context;
}

describe("get", () => {
  it("prints a table with label columns, and names with -o name", async () => {
    const context = seeded();
    await get(context, parseArgs(["configmaps", "-l", "app=web", "-L", "app"], getFlags));
    expect(context.out()).toBe("NAME       DATA   AGE   APP\nsettings   1      10m   web\n");
    const names = seeded();
    await get(names, parseArgs(["deploy,cm", "-o", "name"], getFlags));
    expect(names.out()).toBe("deployment.apps/web\nconfigmap/other\nconfigmap/settings\n");
  });

  it("with -w -o name prints the objects, then each change", async () => {
    const context = seeded();
    const stop = new AbortController();
    const watching = get({ ...context, signal: stop.signal }, parseArgs(["cm", "-w", "-o", "name"], getFlags));
    await expect.poll(() => context.out()).toBe("configmap/other\nconfigmap/settings\n");
    await context.client.create(configMaps, { metadata: { name: "later", namespace: "demo" } } as ConfigMap);
    await expect.poll(() => context.out()).toBe("configmap/other\nconfigmap/settings\nconfigmap/later\n");
    stop.abort();
    await watching;
  });

  it("says No resources found on stderr when a list is empty", async () => {
    const context = seeded();
    await get(context, parseArgs(["pods"], getFlags));
    expect(context.out()).toBe("");
    expect(context.err()).toBe("No resources found in demo namespace.\n");
  });
});

describe("label", () => {
  it("refuses to change a value without --overwrite and removes keys with key-", () => {
    expect(() => metadataPatch("labels", { app: "web" }, { set: { app: "db" }, remove: [] }, false)).toThrow("'app' already has a value (web), and --overwrite is false");
    expect(metadataPatch("labels", { app: "web" }, { set: { app: "db" }, remove: ["tier"] }, true)).toEqual({ metadata: { labels: { app: "db", tier: null } } });
  });

  it("patches only when something changes, and says not labeled otherwise", async () => {
    const context = seeded();
    await label(context, parseArgs(["cm", "settings", "tier=a"], labelFlags));
    await label(context, parseArgs(["cm", "settings", "tier=a"], labelFlags));
    await label(context, parseArgs(["cm", "settings", "tier-"], labelFlags));
    expect(context.out()).toBe("configmap/settings labeled\nconfigmap/settings not labeled\nconfigmap/settings labeled\n");
    expect(context.fake.writes.map((write) => write.object)).toEqual([{ metadata: { labels: { tier: "a" } } }, { metadata: { labels: { tier: null } } }]);
  });
});

describe("delete", () => {
  it("sends --cascade=orphan as propagationPolicy Orphan, for every object a selector matches", async () => {
    const context = seeded();
    expect(await deleteVerb(context, parseArgs(["cm", "-l", "app", "--cascade=orphan"], deleteFlags))).toBe(0);
    expect(context.out()).toBe('configmap "other" deleted\nconfigmap "settings" deleted\n');
    expect(context.fake.writes.map((write) => [write.verb, write.name, (write.object as { propagationPolicy?: string }).propagationPolicy])).toEqual([
      ["delete", "other", "Orphan"],
      ["delete", "settings", "Orphan"],
    ]);
  });

  it("needs a name, a selector or --all", async () => {
    const context = seeded();
    expect(await deleteVerb(context, parseArgs(["cm"], deleteFlags)).catch((error: Error) => error.message)).toBe("resource(s) were provided, but no name was specified");
  });
});

describe("create", () => {
  it("builds kubectl's deployment and service objects", async () => {
    const context = testContext({ namespace: "demo" });
    await create(context, parseArgs(["deployment", "api", "--image=registry.local:5000/team/api:v2", "--replicas=3"], createFlags));
    expect(context.out()).toBe("deployment.apps/api created\n");
    const stored = await context.client.get<Deployment>(deployments, "demo", "api");
    expect(stored.spec?.replicas).toBe(3);
    expect(stored.spec?.template.spec?.containers[0]?.name).toBe("api");
    expect(servicePorts(["80:8080", "443"], undefined)).toEqual([
      { name: "80-8080", port: 80, protocol: "TCP", targetPort: 8080 },
      { name: "443-443", port: 443, protocol: "TCP", targetPort: 443 },
    ]);
  });
});

describe("config set-context and rollout status", () => {
  it("sets the current context's namespace, keeping the rest", () => {
    const config = { "current-context": "admin", contexts: [{ name: "admin", context: { cluster: "c", user: "u" } }] };
    const { config: changed, created } = setContext(config, undefined, true, { namespace: "demo" });
    expect(created).toBe(false);
    expect(changed.contexts).toEqual([{ name: "admin", context: { cluster: "c", user: "u", namespace: "demo" } }]);
  });

  it("reports a deployment's rollout as kubectl does", () => {
    const base = { metadata: { name: "web", generation: 2 }, spec: { replicas: 3, selector: {}, template: {} } } as Deployment;
    expect(deploymentStatus({ ...base, status: { observedGeneration: 1 } }).message).toBe("Waiting for deployment spec update to be observed...\n");
    expect(deploymentStatus({ ...base, status: { observedGeneration: 2, updatedReplicas: 1 } }).message).toBe('Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...\n');
    expect(deploymentStatus({ ...base, status: { observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3 } })).toEqual({ message: 'deployment "web" successfully rolled out\n', done: true });
  });
});

describe("describe", () => {
  it("prints the header without apply's annotation, the fields, and events as kubectl's tabwriter (padding 2)", () => {
    const object = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "settings", namespace: "demo", labels: { app: "web" }, annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}\n", note: "x" } },
      data: { greeting: "hello" },
    } as ConfigMap;
    const event = { metadata: { name: "e" }, involvedObject: {}, type: "Normal", reason: "Updated", message: "it changed", count: 2, source: { component: "me" }, lastTimestamp: "2026-11-22T00:09:30Z" };
    expect(describeObject(configMaps, object, [event as never], Date.parse("2026-11-22T00:10:00Z"))).toBe(
      [
        "Name:         settings",
        "Namespace:    demo",
        "Labels:       app=web",
        "Annotations:  note: x",
        "Data:",
        "  Greeting:  hello",
        "Events:",
        "  Type    Reason   Age       From  Message",
        "  ----    ------   ----      ----  -------",
        "  Normal  Updated  30s (x2)  me    it changed",
        "",
      ].join("\n"),
    );
  });
});
