import { describe, expect, it } from "vitest";
import type { Pod } from "../../../libs/api/types/pod.ts";
import { computePodRequests, nodeAllocatable } from "./resources.ts";
import { makeNode } from "./test-fixtures.ts";

function pod(spec: NonNullable<Pod["spec"]>): Pod {
  return { metadata: { name: "p", namespace: "default" }, spec };
}

const requests = (cpu: string, memory?: string) => ({ resources: { requests: { cpu, ...(memory === undefined ? {} : { memory }) } } });

describe("computePodRequests", () => {
  it("sums app containers and defaults missing requests to zero", () => {
    const result = computePodRequests(pod({ containers: [{ name: "a", ...requests("250m", "64Mi") }, { name: "b" }] }));
    expect(result.requests).toMatchObject({ milliCpu: 250, memoryBytes: 64 * 1024 * 1024, ephemeralStorageBytes: 0 });
  });

  it("scores a container without requests as 100m and 200Mi", () => {
    const result = computePodRequests(pod({ containers: [{ name: "a" }, { name: "b", ...requests("1") }] }));
    expect(result.nonZeroMilliCpu).toBe(1100);
    expect(result.nonZeroMemoryBytes).toBe(2 * 200 * 1024 * 1024);
  });

  it("takes the largest regular init container when it exceeds the app containers", () => {
    const result = computePodRequests(pod({ containers: [{ name: "a", ...requests("500m") }], initContainers: [{ name: "i1", ...requests("2") }, { name: "i2", ...requests("1") }] }));
    expect(result.requests.milliCpu).toBe(2000);
  });

  it("adds sidecars to the app containers and to the init containers started after them", () => {
    const result = computePodRequests(
      pod({
        containers: [{ name: "a", ...requests("500m") }],
        initContainers: [{ name: "sidecar", restartPolicy: "Always", ...requests("300m") }, { name: "migrate", ...requests("1") }],
      }),
    );
    // max(app 500m + sidecar 300m, migrate 1000m + sidecar 300m) = 1300m.
    expect(result.requests.milliCpu).toBe(1300);
  });

  it("adds the pod overhead and counts extended resources", () => {
    const result = computePodRequests(pod({ containers: [{ name: "a", resources: { requests: { cpu: "1", "nvidia.com/gpu": "2" } } }], overhead: { cpu: "250m" } }));
    expect(result.requests.milliCpu).toBe(1250);
    expect(result.requests.scalars.get("nvidia.com/gpu")).toBe(2);
  });
});

describe("nodeAllocatable", () => {
  it("reads cpu in millicores, memory in bytes and the pod count", () => {
    const allocatable = nodeAllocatable(makeNode("n1", { cpu: "3500m", memory: "1Gi", pods: 30 }));
    expect(allocatable.resources).toMatchObject({ milliCpu: 3500, memoryBytes: 1024 ** 3 });
    expect(allocatable.pods).toBe(30);
  });
});
