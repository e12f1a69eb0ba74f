import { describe, expect, it } from "vitest";
import { createPrng } from "../../../libs/prng/index.ts";
import type { Node } from "../../../libs/api/types/core.ts";
import type { Pod } from "../../../libs/api/types/pod.ts";
import { mayBecomeSchedulable, podBackoffMs } from "./requeue.ts";
import { Scheduler } from "./scheduler.ts";
import type { Diagnosis } from "./status.ts";
import { makeNode, makePod, snapshotOf } from "./test-fixtures.ts";

function diagnose(nodes: Node[], existing: Pod[], pod: Pod): Diagnosis {
  const result = new Scheduler(snapshotOf(nodes, existing)).schedule(pod, createPrng(1));
  if (result.kind !== "Unschedulable") throw new Error("expected Unschedulable");
  return result.diagnosis;
}

describe("mayBecomeSchedulable", () => {
  const small = makeNode("n1", { cpu: "1" });
  const tooBig = makePod("p", { cpu: "2" });

  it("a pod short of cpu waits for a pod deletion, a bigger node or a new node, not for a pod add", () => {
    const diagnosis = diagnose([small], [], tooBig);
    expect(diagnosis.unschedulablePlugins).toEqual(new Set(["NodeResourcesFit"]));
    expect(mayBecomeSchedulable(diagnosis, { kind: "PodDelete", pod: makePod("a", { nodeName: "n1" }) })).toBe(true);
    expect(mayBecomeSchedulable(diagnosis, { kind: "NodeAdd", node: makeNode("n2") })).toBe(true);
    expect(mayBecomeSchedulable(diagnosis, { kind: "NodeUpdate", oldNode: small, newNode: makeNode("n1", { cpu: "4" }) })).toBe(true);
    expect(mayBecomeSchedulable(diagnosis, { kind: "NodeUpdate", oldNode: small, newNode: makeNode("n1", { cpu: "1", labels: { x: "y" } }) })).toBe(false);
    expect(mayBecomeSchedulable(diagnosis, { kind: "PodAdd", pod: makePod("b", { nodeName: "n1" }) })).toBe(false);
  });

  it("a pod rejected by a taint waits for the taint to change, not for pods", () => {
    const tainted = makeNode("n1", { taints: [{ key: "k", effect: "NoSchedule" }] });
    const diagnosis = diagnose([tainted], [], makePod("p"));
    expect(mayBecomeSchedulable(diagnosis, { kind: "NodeUpdate", oldNode: tainted, newNode: makeNode("n1") })).toBe(true);
    expect(mayBecomeSchedulable(diagnosis, { kind: "PodDelete", pod: makePod("a", { nodeName: "n1" }) })).toBe(false);
  });

  it("a cordoned node becoming schedulable again requeues; a NotReady node turning Ready does too", () => {
    const cordoned = makeNode("n1", { unschedulable: true });
    expect(mayBecomeSchedulable(diagnose([cordoned], [], makePod("p")), { kind: "NodeUpdate", oldNode: cordoned, newNode: makeNode("n1") })).toBe(true);
    const notReady = makeNode("n1", { ready: "False" });
    expect(mayBecomeSchedulable(diagnose([notReady], [], makePod("p")), { kind: "NodeUpdate", oldNode: notReady, newNode: makeNode("n1") })).toBe(true);
  });

  it("pod affinity failures wait for pods to arrive", () => {
    const pod = makePod("p", { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "cache" } }, topologyKey: "kubernetes.io/hostname" }] } } });
    const diagnosis = diagnose([makeNode("n1")], [], pod);
    expect(mayBecomeSchedulable(diagnosis, { kind: "PodAdd", pod: makePod("cache", { nodeName: "n1", labels: { app: "cache" } }) })).toBe(true);
    expect(mayBecomeSchedulable(diagnosis, { kind: "VolumeChange" })).toBe(false);
  });
});

describe("podBackoffMs", () => {
  it("doubles from 1 s and stops at 10 s", () => {
    expect([0, 1, 2, 3, 4, 5, 50].map((attempts) => podBackoffMs(attempts))).toEqual([0, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
  });
});
