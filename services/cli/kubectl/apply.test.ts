import { describe, expect, it } from "vitest";
import { findResource } from "../../../libs/api/index.ts";
import type { Deployment } from "../../../libs/api/index.ts";
import { apply, applyFlags, lastAppliedAnnotation } from "./apply.ts";
import { parseArgs } from "./flags.ts";
import { testContext } from "./test-support.ts";

const deployments = findResource("apps", "v1", "deployments")!;

const manifest = (ports: string) => `apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {a: "1"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: flotilla/busybox:1
        ports: [${ports}]
`;

describe("apply", () => {
  it("creates every document with the last-applied annotation and reports each", async () => {
    const context = testContext({ namespace: "demo", stdin: manifest("{containerPort: 80}") });
    expect(await apply(context, parseArgs(["-f", "-"], applyFlags))).toBe(0);
    expect(context.out()).toBe("configmap/settings created\ndeployment.apps/web created\n");
    const stored = await context.client.get<Deployment>(deployments, "demo", "web");
    const annotation = JSON.parse(stored.metadata.annotations?.[lastAppliedAnnotation] ?? "{}") as Deployment;
    expect(annotation.metadata.namespace).toBe("demo");
    expect(annotation.metadata.annotations).toBeUndefined();
    expect(annotation.spec?.replicas).toBe(2);
  });

  it("re-applying the same manifest writes nothing", async () => {
    const context = testContext({ namespace: "demo", stdin: manifest("{containerPort: 80}") });
    await apply(context, parseArgs(["-f", "-"], applyFlags));
    context.fake.clearWrites();
    const again = testContext({ namespace: "demo", stdin: manifest("{containerPort: 80}") });
    const shared = { ...again, client: context.client, fake: context.fake };
    expect(await apply(shared, parseArgs(["-f", "-"], applyFlags))).toBe(0);
    expect(again.out()).toBe("configmap/settings unchanged\ndeployment.apps/web unchanged\n");
    expect(context.fake.writes).toEqual([]);
  });

  it("a re-apply removes a port taken out of the manifest and keeps a field someone else set", async () => {
    const first = testContext({ namespace: "demo", stdin: manifest("{containerPort: 80}, {containerPort: 9090}") });
    await apply(first, parseArgs(["-f", "-"], applyFlags));
    first.fake.mutate<Deployment>(deployments, "demo", "web", (deployment) => {
      const container = deployment.spec!.template.spec!.containers[0]!;
      container.env = [{ name: "SET_BY", value: "someone-else" }];
      return deployment;
    });
    const second = testContext({ namespace: "demo", stdin: manifest("{containerPort: 80}") });
    await apply({ ...second, client: first.client }, parseArgs(["-f", "-"], applyFlags));
    expect(second.out()).toContain("deployment.apps/web configured");
    const container = (await first.client.get<Deployment>(deployments, "demo", "web")).spec!.template.spec!.containers[0]!;
    expect(container.ports).toEqual([{ containerPort: 80 }]);
    expect(container.env).toEqual([{ name: "SET_BY", value: "someone-else" }]);
  });

  it("refuses a manifest whose namespace differs from -n", async () => {
    const context = testContext({ namespace: "demo", namespaceFromFlag: true, stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: other}\n" });
    await expect(apply(context, parseArgs(["-f", "-"], applyFlags))).rejects.toThrow('the namespace from the provided object "other" does not match the namespace "demo"');
    expect(context.fake.writes).toEqual([]);
  });
});
