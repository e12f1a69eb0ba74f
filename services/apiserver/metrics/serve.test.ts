import { describe, expect, test } from "vitest";
import { parseSelector } from "../../../libs/api/labels.ts";
import type { Storages } from "../storages.ts";
import type { StoredObject } from "../storage/index.ts";
import type { ServerResponse } from "node:http";
import type { ResourceRequest } from "../request-info.ts";
import { listNodeMetrics, listPodMetrics, serveMetrics, usageQuantities, type MetricsDeps } from "./serve.ts";
import { memoryUsageStore, parseUsageSample, podsPerSampleMax } from "./samples.ts";

/** Storages whose caches list the given nodes and pods (the only reads the metrics API makes). */
function fakeStorages(objects: { nodes: StoredObject[]; pods: StoredObject[] }): Storages {
  return {
    cacherFor: (info: { resource: string }) => ({
      list: async (prefix: string) => ({
        items: (info.resource === "nodes" ? objects.nodes : objects.pods).filter((object) => {
          const namespace = (object["metadata"] as { namespace?: string }).namespace;
          return namespace === undefined || prefix.endsWith(`/pods`) || prefix.endsWith(`/pods/`) || prefix.includes(`/pods/${namespace}`);
        }),
        resourceVersion: "1",
      }),
    }),
  } as unknown as Storages;
}

const node = (name: string, labels: Record<string, string>): StoredObject => ({ metadata: { name, labels } });
const pod = (namespace: string, name: string, nodeName: string, labels: Record<string, string>): StoredObject => ({ metadata: { namespace, name, labels }, spec: { nodeName } });

function deps(): MetricsDeps {
  const usage = memoryUsageStore();
  usage.samples.set("n1", {
    nodeName: "n1",
    timestampMs: 1_700_000_000_000,
    windowSeconds: 15,
    cpuNanoCores: 250_000_000,
    memoryWorkingSetBytes: 2 * 1024 * 1024,
    pods: [
      { namespace: "a", name: "web-1", timestampMs: 1_700_000_000_000, windowSeconds: 15, containers: [{ name: "c", cpuNanoCores: 100_000_000, memoryWorkingSetBytes: 4096 }] },
      { namespace: "a", name: "liar", timestampMs: 1_700_000_000_000, windowSeconds: 15, containers: [] },
      { namespace: "a", name: "gone", timestampMs: 1_700_000_000_000, windowSeconds: 15, containers: [] },
    ],
  });
  const storages = fakeStorages({
    nodes: [node("n1", { zone: "attic" }), node("n2", {})],
    pods: [pod("a", "web-1", "n1", { app: "web" }), pod("a", "liar", "n2", { app: "web" })],
  });
  return { usage, storages, nowMs: () => 1_700_000_005_000 };
}

describe("metrics.k8s.io", () => {
  test("usage is written in nanocores and Ki as metrics-server writes it", () => {
    expect(usageQuantities(123_456_789.4, 10 * 1024)).toEqual({ cpu: "123456789n", memory: "10Ki" });
  });

  test("a node with a sample is served with its Node's labels; a node without one is not", async () => {
    const items = await listNodeMetrics(deps(), "", parseSelector(""));
    expect(items).toEqual([
      { metadata: { name: "n1", creationTimestamp: "2023-11-14T22:13:25Z", labels: { zone: "attic" } }, timestamp: "2023-11-14T22:13:20Z", window: "15s", usage: { cpu: "250000000n", memory: "2048Ki" } },
    ]);
    expect(await listNodeMetrics(deps(), "", parseSelector("zone=cellar"))).toEqual([]);
  });

  test("pods are served only while they exist and are bound to the node that reported them", async () => {
    const items = await listPodMetrics(deps(), "a", "", parseSelector("app=web"));
    expect(items.map((item) => item["metadata"])).toEqual([{ name: "web-1", namespace: "a", creationTimestamp: "2023-11-14T22:13:25Z", labels: { app: "web" } }]);
    expect(items[0]?.["containers"]).toEqual([{ name: "c", usage: { cpu: "100000000n", memory: "4Ki" } }]);
    expect(await listPodMetrics(deps(), "a", "web-1", parseSelector("app=db"))).toEqual([]);
  });

  test("a sample is refused when it is not well formed or too large", () => {
    expect(() => parseUsageSample({ timestampMs: 1, windowSeconds: 15, cpuNanoCores: -1, memoryWorkingSetBytes: 0, pods: [] }, "n")).toThrow(/non-negative/);
    const pods = Array.from({ length: podsPerSampleMax + 1 }, (_unused, index) => ({ namespace: "a", name: `p${index}`, timestampMs: 1, windowSeconds: 15, containers: [] }));
    expect(() => parseUsageSample({ timestampMs: 1, windowSeconds: 15, cpuNanoCores: 0, memoryWorkingSetBytes: 0, pods }, "n")).toThrow(/more than/);
    expect(parseUsageSample({ nodeName: "other", timestampMs: 1, windowSeconds: 15, cpuNanoCores: 0, memoryWorkingSetBytes: 0, pods: [] }, "n").nodeName).toBe("n");
  });
});

/** A response that keeps what writeJson sends. */
function recordingResponse(): ServerResponse & { statusCode: number; body: unknown } {
  const recorded = { statusCode: 0, body: undefined as unknown, writableEnded: false, headersSent: false };
  return Object.assign(recorded, {
    writeHead: (code: number) => void (recorded.statusCode = code),
    end: (text: string) => void (recorded.body = JSON.parse(text)),
  }) as unknown as ServerResponse & { statusCode: number; body: unknown };
}

const request = (verb: ResourceRequest["verb"], resource: string, namespace: string, name: string): ResourceRequest => ({
  kind: "resource",
  verb,
  group: "metrics.k8s.io",
  version: "v1beta1",
  namespace,
  resource,
  name,
  subresource: "",
});

describe("metrics.k8s.io requests", () => {
  test("a list is a PodMetricsList; a get is one PodMetrics with its kind", async () => {
    const listed = recordingResponse();
    await serveMetrics(listed, request("list", "pods", "a", ""), new URLSearchParams("labelSelector=app%3Dweb"), deps());
    expect(listed.body).toMatchObject({ kind: "PodMetricsList", apiVersion: "metrics.k8s.io/v1beta1", items: [{ kind: "PodMetrics", metadata: { name: "web-1" } }] });
    const got = recordingResponse();
    await serveMetrics(got, request("get", "nodes", "", "n1"), new URLSearchParams(), deps());
    expect(got.body).toMatchObject({ kind: "NodeMetrics", apiVersion: "metrics.k8s.io/v1beta1", metadata: { name: "n1" }, window: "15s" });
  });

  test("an unknown name is 404 in metrics-server's words; watch is 405", async () => {
    await expect(serveMetrics(recordingResponse(), request("get", "pods", "a", "gone"), new URLSearchParams(), deps())).rejects.toMatchObject({
      status: { code: 404, message: 'podmetrics.metrics.k8s.io "a/gone" not found' },
    });
    await expect(serveMetrics(recordingResponse(), request("watch", "nodes", "", ""), new URLSearchParams(), deps())).rejects.toMatchObject({ status: { code: 405 } });
  });
});
