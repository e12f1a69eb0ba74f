import { describe, expect, it } from "vitest";
import { findResource, newInternalError } from "../../../libs/api/index.ts";
import type { ConfigMap, Namespace, Pod } from "../../../libs/api/index.ts";
import { drainQueue, fakeControllerContext } from "../../../libs/client/fake-informers.ts";
import { deploymentsResource, namespacesResource, podsResource } from "../common/resources.ts";
import { template } from "../common/testing.ts";
import { contentRemainingRetryMs, NamespaceController, namespacedResources } from "./controller.ts";

const configMaps = findResource("", "v1", "configmaps")!;
const deletedAt = "2026-01-01T00:00:00Z";

// The fake removes a marked object on any update once metadata.finalizers are empty (it does not
// model a namespace's spec.finalizers), so a metadata finalizer keeps the namespace inspectable.
const keepFinalizer = "test.flotilla.io/keep";

function terminating(name: string): Namespace {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, deletionTimestamp: deletedAt, finalizers: [keepFinalizer] }, spec: { finalizers: ["kubernetes"] }, status: { phase: "Terminating" } };
}

function setup() {
  const fake = fakeControllerContext();
  fake.client.seed<Namespace>(namespacesResource, { metadata: { name: "team-a" }, spec: { finalizers: ["kubernetes"] }, status: { phase: "Active" } });
  fake.client.seed<Namespace>(namespacesResource, terminating("leaving"));
  fake.client.seed<ConfigMap>(configMaps, { metadata: { name: "settings", namespace: "leaving" }, data: { a: "1" } });
  fake.client.seed<Pod>(podsResource, { metadata: { name: "web-1", namespace: "leaving" }, spec: { containers: [{ name: "app", image: "nginx:1" }] } });
  fake.client.seed(deploymentsResource, { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "leaving" }, spec: { selector: { matchLabels: { app: "web" } }, template: template({ app: "web" }) } });
  fake.client.seed<ConfigMap>(configMaps, { metadata: { name: "stays", namespace: "team-a" } });
  const controller = new NamespaceController();
  controller.setup(fake.context);
  const run = () => drainQueue(fake.queue, (key) => controller.reconcile(key));
  return { ...fake, run, controller };
}

function conditionOf(namespace: Namespace | undefined, type: string) {
  return namespace?.status?.conditions?.find((condition) => condition.type === type);
}

describe("namespace controller", () => {
  it("empties a Terminating namespace, reports it, then removes the kubernetes finalizer through finalize", async () => {
    const { client, run } = setup();
    await run();
    const writes = client.writes.map((write) => [write.verb, write.resource, write.namespace ?? "", write.name, write.subresource ?? ""]);
    expect(writes).toEqual([
      ["delete", "configmaps", "leaving", "settings", ""],
      ["delete", "pods", "leaving", "web-1", ""],
      ["delete", "deployments", "leaving", "web", ""],
      ["update", "namespaces", "", "leaving", "status"],
      ["update", "namespaces", "", "leaving", "finalize"],
    ]);
    const finalized = client.stored<Namespace>(namespacesResource, undefined, "leaving");
    expect(finalized?.spec?.finalizers).toEqual([]);
    expect(conditionOf(finalized, "NamespaceContentRemaining")).toMatchObject({ status: "False", reason: "ContentRemoved", message: "All content successfully removed" });
    expect(client.storedAll(configMaps, "team-a")).toHaveLength(1);
  });

  it("a second reconcile writes nothing", async () => {
    const { client, run, controller } = setup();
    await run();
    client.clearWrites();
    await controller.reconcile("leaving");
    await controller.reconcile("team-a");
    expect(client.writes).toEqual([]);
  });

  it("waits for content held by a finalizer, reporting it, and finalizes once it is gone", async () => {
    const { client, run, queue, controller } = setup();
    client.seed<ConfigMap>(configMaps, { metadata: { name: "held", namespace: "leaving", finalizers: ["example.com/hold"] } });
    await run();
    const waiting = client.stored<Namespace>(namespacesResource, undefined, "leaving");
    expect(waiting?.spec?.finalizers).toEqual(["kubernetes"]);
    expect(conditionOf(waiting, "NamespaceContentRemaining")).toMatchObject({ status: "True", reason: "SomeResourcesRemain", message: "Some resources are remaining: configmaps has 1 resource instances" });
    expect(conditionOf(waiting, "NamespaceFinalizersRemaining")).toMatchObject({
      status: "True",
      reason: "SomeFinalizersRemain",
      message: "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances",
    });
    // Looked at again later (the status write's own update event may have added a round).
    expect(queue.delayed.length).toBeGreaterThan(0);
    expect(new Set(queue.delayed.map(({ key, delayMs }) => `${key} ${delayMs}`))).toEqual(new Set([`leaving ${contentRemainingRetryMs}`]));
    client.clearWrites();
    await controller.reconcile("leaving");
    expect(client.writes).toEqual([]);
    client.mutate<ConfigMap>(configMaps, "leaving", "held", (held) => ({ ...held, metadata: { ...held.metadata, finalizers: [] } }));
    client.remove(configMaps, "leaving", "held");
    await controller.reconcile("leaving");
    expect(client.writes.map((write) => write.subresource)).toEqual(["status", "finalize"]);
    expect(client.stored<Namespace>(namespacesResource, undefined, "leaving")?.spec?.finalizers).toEqual([]);
  });

  it("reports a resource type it could not empty as NamespaceDeletionContentFailure and retries", async () => {
    const { client, controller } = setup();
    client.addReactor((verb, resource) => (verb === "delete" && resource.resource === "pods" ? newInternalError("etcd is down") : undefined));
    await expect(controller.reconcile("leaving")).rejects.toThrow("1 resource types could not be emptied");
    const failed = client.stored<Namespace>(namespacesResource, undefined, "leaving");
    expect(conditionOf(failed, "NamespaceDeletionContentFailure")).toMatchObject({ status: "True", reason: "ContentDeletionFailed" });
    expect(conditionOf(failed, "NamespaceDeletionContentFailure")?.message).toContain("Failed to delete all resource types, 1 remaining: pods:");
    expect(failed?.spec?.finalizers).toEqual(["kubernetes"]);
  });

  it("leaves other finalizers in place and ignores namespaces not being deleted", async () => {
    const { client, run } = setup();
    client.mutate<Namespace>(namespacesResource, undefined, "leaving", (namespace) => ({ ...namespace, spec: { finalizers: ["kubernetes", "example.com/audit"] } }));
    await run();
    expect(client.stored<Namespace>(namespacesResource, undefined, "leaving")?.spec?.finalizers).toEqual(["example.com/audit"]);
    expect(client.writes.some((write) => write.namespace === "team-a" || write.name === "team-a")).toBe(false);
  });

  it("covers every namespaced resource the API server stores, once per group", () => {
    const names = namespacedResources().map((info) => (info.group === "" ? info.resource : `${info.resource}.${info.group}`));
    expect(names).toContain("pods");
    expect(names).toContain("deployments.apps");
    expect(names).toContain("events");
    expect(names).not.toContain("nodes");
    expect(new Set(names).size).toBe(names.length);
  });
});
