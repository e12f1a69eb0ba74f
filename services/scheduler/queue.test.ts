import { describe, expect, it } from "vitest";
import type { Diagnosis } from "./core/index.ts";
import { makeNode } from "./core/test-fixtures.ts";
import { SchedulingQueue, unschedulableMaxMs } from "./queue.ts";

function diagnosis(...plugins: Diagnosis["unschedulablePlugins"] extends ReadonlySet<infer P> ? P[] : never): Diagnosis {
  return { numAllNodes: 1, nodeFailures: new Map(), preFilterFailure: undefined, unschedulablePlugins: new Set(plugins) };
}

function setUp(): { queue: SchedulingQueue; clock: { now: number } } {
  const clock = { now: 0 };
  return { queue: new SchedulingQueue(() => clock.now), clock };
}

describe("SchedulingQueue", () => {
  it("hands pending pods out in arrival order, each once", async () => {
    const { queue } = setUp();
    queue.add("default/a");
    queue.add("default/b");
    queue.add("default/a");
    expect([await queue.pop(), await queue.pop()]).toEqual(["default/a", "default/b"]);
    expect(queue.stateOf("default/a")).toBe("inFlight");
  });

  it("parks an unschedulable pod until an event that may help, then respects its backoff", async () => {
    const { queue, clock } = setUp();
    queue.add("p");
    await queue.pop();
    queue.failedUnschedulable("p", diagnosis("NodeResourcesFit"));
    expect(queue.stateOf("p")).toBe("unschedulable");
    const node = makeNode("n1");
    queue.onClusterEvent({ kind: "NodeUpdate", oldNode: node, newNode: { ...node, metadata: { ...node.metadata, labels: { x: "y" } } } });
    expect(queue.stateOf("p")).toBe("unschedulable");
    queue.onClusterEvent({ kind: "NodeAdd", node });
    expect(queue.stateOf("p")).toBe("backoff");
    clock.now += 999;
    queue.flush();
    expect(queue.stateOf("p")).toBe("backoff");
    clock.now += 1;
    queue.flush();
    expect(queue.stateOf("p")).toBe("active");
  });

  it("sends a pod that failed after an event during its attempt to backoff, not the pool", async () => {
    const { queue } = setUp();
    queue.add("p");
    await queue.pop();
    queue.onClusterEvent({ kind: "NodeAdd", node: makeNode("n1") });
    queue.failedUnschedulable("p", diagnosis("NodeResourcesFit"));
    expect(queue.stateOf("p")).toBe("backoff");
  });

  it("retries the pool after five minutes without a helpful event", async () => {
    const { queue, clock } = setUp();
    queue.add("p");
    await queue.pop();
    queue.failedUnschedulable("p", diagnosis("NodeName"));
    clock.now += unschedulableMaxMs - 1;
    queue.flush();
    expect(queue.stateOf("p")).toBe("unschedulable");
    clock.now += 1;
    queue.flush();
    expect(queue.stateOf("p")).toBe("active");
  });

  it("forgets removed pods and resolves pop() with undefined once closed", async () => {
    const { queue } = setUp();
    queue.add("p");
    queue.remove("p");
    expect(queue.size).toBe(0);
    const waiting = queue.pop();
    queue.close();
    expect(await waiting).toBeUndefined();
  });
});
