import { describe, expect, it } from "vitest";
import type { DaemonSet, Node, Pod } from "../../../libs/api/index.ts";
import { daemonSetsResource, nodesResource, podsResource } from "../common/resources.ts";
import { FakeControllers, template } from "../common/testing.ts";
import { DaemonSetController } from "./controller.ts";

function node(name: string, labels: Record<string, string> = {}, taints: NonNullable<Node["spec"]>["taints"] = undefined): Node {
  return { metadata: { name, labels }, ...(taints === undefined ? {} : { spec: { taints } }) };
}

function daemonSet(extra: Partial<NonNullable<DaemonSet["spec"]>> = {}): DaemonSet {
  const spec = template({ app: "agent" });
  spec.spec = { ...spec.spec!, nodeSelector: { disk: "ssd" } };
  return { apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "agent", namespace: "default" }, spec: { selector: { matchLabels: { app: "agent" } }, template: spec, ...extra } };
}

function setup(initial: DaemonSet = daemonSet()) {
  const controllers = new FakeControllers();
  const { client } = controllers.fake;
  client.seed(nodesResource, node("a", { disk: "ssd" }));
  client.seed(nodesResource, node("b", { disk: "hdd" }));
  client.seed(nodesResource, node("c", { disk: "ssd" }, [{ key: "dedicated", value: "db", effect: "NoSchedule" }]));
  client.seed(daemonSetsResource, initial);
  const controller = controllers.add(new DaemonSetController());
  const placement = () => client.storedAll<Pod>(podsResource).map((pod) => pod.spec?.nodeName).sort();
  const read = () => client.stored<DaemonSet>(daemonSetsResource, "default", "agent")!;
  return { controllers, client, controller, placement, read };
}

describe("DaemonSet controller", () => {
  it("runs one pod on each labelled node it tolerates, bound to it, with the daemon tolerations", async () => {
    const { controllers, client, placement, read } = setup();
    await controllers.settle();
    expect(placement()).toEqual(["a"]);
    const [pod] = client.storedAll<Pod>(podsResource);
    expect(pod?.spec?.tolerations?.map((toleration) => toleration.key)).toContain("node.kubernetes.io/unreachable");
    controllers.markPodsReady();
    await controllers.settle();
    expect(read().status).toMatchObject({ desiredNumberScheduled: 1, currentNumberScheduled: 1, numberReady: 1, updatedNumberScheduled: 1, numberAvailable: 1, numberMisscheduled: 0 });
  });

  it("a second reconcile writes nothing", async () => {
    const { controllers, client, controller } = setup();
    await controllers.settle();
    controllers.markPodsReady();
    await controllers.settle();
    client.clearWrites();
    await controller.reconcile("default/agent");
    expect(client.writes).toEqual([]);
  });

  it("adds a pod when a node gains the label and removes it when the node loses it", async () => {
    const { controllers, client, placement } = setup();
    await controllers.settle();
    client.mutate<Node>(nodesResource, undefined, "b", (current) => ({ ...current, metadata: { ...current.metadata, labels: { disk: "ssd" } } }));
    client.seed(nodesResource, node("d", { disk: "ssd" }));
    await controllers.settle();
    expect(placement()).toEqual(["a", "b", "d"]);
    client.mutate<Node>(nodesResource, undefined, "a", (current) => ({ ...current, metadata: { ...current.metadata, labels: {} } }));
    await controllers.settle();
    expect(placement()).toEqual(["b", "d"]);
  });

  it("rolls a new template out one node at a time with maxUnavailable 1", async () => {
    const { controllers, client, placement } = setup();
    client.mutate<Node>(nodesResource, undefined, "b", (current) => ({ ...current, metadata: { ...current.metadata, labels: { disk: "ssd" } } }));
    await controllers.settle();
    controllers.markPodsReady();
    await controllers.settle();
    expect(placement()).toEqual(["a", "b"]);
    client.mutate<DaemonSet>(daemonSetsResource, "default", "agent", (current) => {
      const next = structuredClone(current);
      next.spec!.template.spec!.containers[0]!.image = "agent:2";
      return next;
    });
    await controllers.settle();
    const images = () => client.storedAll<Pod>(podsResource).map((pod) => pod.spec?.containers[0]?.image).sort();
    expect(images()).toEqual(["agent:2", "nginx:1"]);
    controllers.markPodsReady();
    await controllers.settle();
    expect(images()).toEqual(["agent:2", "agent:2"]);
  });
});
