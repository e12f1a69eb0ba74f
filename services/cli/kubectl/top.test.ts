import { describe, expect, test } from "vitest";
import { findResource } from "../../../libs/api/index.ts";
import type { KubeObject } from "../../../libs/api/index.ts";
import { parseArgs } from "./flags.ts";
import { testContext } from "./test-support.ts";
import { top, topFlags } from "./top.ts";

const nodeMetrics = findResource("metrics.k8s.io", "v1beta1", "nodes")!;
const podMetrics = findResource("metrics.k8s.io", "v1beta1", "pods")!;
const nodes = findResource("", "v1", "nodes")!;

function world() {
  const context = testContext();
  context.fake.seed(nodes, { apiVersion: "v1", kind: "Node", metadata: { name: "node-a" }, status: { allocatable: { cpu: "4", memory: "8Gi" } } } as KubeObject);
  context.fake.seed(nodes, { apiVersion: "v1", kind: "Node", metadata: { name: "node-b" }, status: { allocatable: { cpu: "2", memory: "4Gi" } } } as KubeObject);
  context.fake.seed(nodeMetrics, { metadata: { name: "node-a" }, usage: { cpu: "1500000000n", memory: "2097152Ki" } } as KubeObject);
  const pod = (name: string, cpu: string, labels: Record<string, string>): KubeObject =>
    ({ metadata: { name, namespace: "default", labels }, containers: [{ name: "app", usage: { cpu, memory: "20480Ki" } }, { name: "side", usage: { cpu: "1000000n", memory: "1024Ki" } }] }) as KubeObject;
  context.fake.seed(podMetrics, pod("web-1", "90000000n", { app: "web" }));
  context.fake.seed(podMetrics, pod("db-1", "250000000n", { app: "db" }));
  return context;
}

async function runTop(context: ReturnType<typeof testContext>, ...args: string[]): Promise<string> {
  expect(await top(context, parseArgs(args, topFlags))).toBe(0);
  return context.out();
}

describe("flotilla top", () => {
  test("top nodes prints millicores, Mi and shares of allocatable as kubectl, <unknown> without metrics", async () => {
    expect(await runTop(world(), "nodes")).toBe(
      [
        "NAME     CPU(cores)   CPU(%)      MEMORY(bytes)   MEMORY(%)   ",
        "node-a   1500m        37%         2048Mi          25%         ",
        "node-b   <unknown>    <unknown>   <unknown>       <unknown>   ",
        "",
      ].join("\n"),
    );
  });

  test("top pods sums containers, filters by label and sorts by cpu; --containers lists each", async () => {
    expect(await runTop(world(), "pods", "--sort-by", "cpu", "--no-headers")).toBe(["db-1    251m   21Mi   ", "web-1   91m    21Mi   ", ""].join("\n"));
    expect(await runTop(world(), "pods", "-l", "app=web", "--containers")).toBe(
      ["POD     NAME   CPU(cores)   MEMORY(bytes)   ", "web-1   app    90m          20Mi            ", "web-1   side   1m           1Mi             ", ""].join("\n"),
    );
  });
});
