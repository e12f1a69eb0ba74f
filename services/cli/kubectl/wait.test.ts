import { describe, expect, it } from "vitest";
import { findResource } from "../../../libs/api/index.ts";
import type { Deployment, Pod } from "../../../libs/api/index.ts";
import { parseArgs } from "./flags.ts";
import { testContext } from "./test-support.ts";
import { conditionMet, parseWaitFor, wait, waitFlags } from "./wait.ts";

const pods = findResource("", "v1", "pods")!;

const pod = (name: string, ready: string, phase = "Running") =>
  ({ metadata: { name, namespace: "demo", labels: { app: "web" } }, status: { phase, conditions: [{ type: "Ready", status: ready }] } }) as unknown as Pod;

describe("wait", () => {
  it("parses --for as kubectl does", () => {
    expect(parseWaitFor("delete")).toEqual({ kind: "delete" });
    expect(parseWaitFor("condition=Ready")).toEqual({ kind: "condition", type: "Ready", value: "true" });
    expect(parseWaitFor("condition=Available=false")).toEqual({ kind: "condition", type: "Available", value: "false" });
    expect(parseWaitFor("jsonpath={.status.phase}=Running")).toEqual({ kind: "jsonpath", path: "{.status.phase}", value: "Running" });
    expect(parseWaitFor("jsonpath='{.status.phase}'".replace(/'/g, ""))).toEqual({ kind: "jsonpath", path: "{.status.phase}", value: undefined });
    expect(() => parseWaitFor("ready")).toThrow('unrecognized condition: "ready"');
  });

  it("matches conditions case-insensitively and not before the condition saw the current generation", () => {
    expect(conditionMet(pod("a", "True"), parseWaitFor("condition=ready"))).toBe(true);
    expect(conditionMet(pod("a", "False"), parseWaitFor("condition=Ready"))).toBe(false);
    const stale = { metadata: { name: "d", generation: 3 }, status: { conditions: [{ type: "Available", status: "True", observedGeneration: 2 }] } } as unknown as Deployment;
    expect(conditionMet(stale, parseWaitFor("condition=Available"))).toBe(false);
    expect(conditionMet(pod("a", "True", "Pending"), parseWaitFor("jsonpath={.status.phase}=Running"))).toBe(false);
  });

  it("prints condition met for every object a selector matches", async () => {
    const context = testContext({ namespace: "demo" });
    context.fake.seed(pods, pod("a", "True"));
    context.fake.seed(pods, pod("b", "True"));
    expect(await wait(context, parseArgs(["pods", "-l", "app=web", "--for=condition=Ready"], waitFlags))).toBe(0);
    expect(context.out()).toBe("pod/a condition met\npod/b condition met\n");
  });

  it("times out with kubectl's message, and --for=delete is met by an absent object", async () => {
    const context = testContext({ namespace: "demo" });
    context.fake.seed(pods, pod("a", "False"));
    await expect(wait(context, parseArgs(["pod/a", "--for=condition=Ready", "--timeout=0s"], waitFlags))).rejects.toThrow("timed out waiting for the condition on pods/a");
    await expect(wait(context, parseArgs(["pod/a", "--for=delete", "--timeout=0s"], waitFlags))).rejects.toThrow("timed out waiting for the condition on pods/a");
    await context.client.delete(pods, "demo", "a");
    expect(await wait(context, parseArgs(["pod/a", "--for=delete", "--timeout=0s"], waitFlags))).toBe(0);
    expect(context.out()).toBe("pod/a condition met\n");
  });
});
