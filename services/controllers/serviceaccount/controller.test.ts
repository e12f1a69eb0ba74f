import { describe, expect, it } from "vitest";
import type { Namespace } from "../../../libs/api/index.ts";
import { drainQueue, fakeControllerContext } from "../../../libs/client/fake-informers.ts";
import { namespacesResource, serviceAccountsResource } from "../common/resources.ts";
import { ServiceAccountController } from "./controller.ts";

function setup() {
  const fake = fakeControllerContext();
  fake.client.seed<Namespace>(namespacesResource, { metadata: { name: "team-a" }, status: { phase: "Active" } });
  fake.client.seed<Namespace>(namespacesResource, { metadata: { name: "leaving", deletionTimestamp: "2026-01-01T00:00:00Z", finalizers: ["x"] }, status: { phase: "Terminating" } });
  const controller = new ServiceAccountController();
  controller.setup(fake.context);
  const run = () => drainQueue(fake.queue, (key) => controller.reconcile(key));
  return { ...fake, run, controller };
}

describe("ServiceAccount controller", () => {
  it("creates the default ServiceAccount in each active namespace only", async () => {
    const { client, run } = setup();
    await run();
    expect(client.writes).toEqual([
      { verb: "create", resource: "serviceaccounts", namespace: "team-a", name: "default", subresource: undefined, object: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: "team-a" } } },
    ]);
  });

  it("a second reconcile writes nothing, and a deleted default account comes back", async () => {
    const { client, run, controller } = setup();
    await run();
    client.clearWrites();
    await controller.reconcile("team-a");
    expect(client.writes).toEqual([]);
    await client.delete(serviceAccountsResource, "team-a", "default");
    client.clearWrites();
    await run();
    expect(client.writes.map((write) => [write.verb, write.namespace, write.name])).toEqual([["create", "team-a", "default"]]);
  });
});
