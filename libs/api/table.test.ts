import { describe, expect, test } from "vitest";
import { formatHpaMetrics } from "./table-workloads.ts";
import { formatEndpoints } from "./table-core.ts";
import { listTable, objectTable, tableColumns, tableRow } from "./table.ts";
import type { EndpointSlice, HorizontalPodAutoscaler, Ingress, RoleBinding, StorageClass } from "./types/cluster.ts";
import type { Endpoints, Event, Node, PersistentVolumeClaim, ResourceQuota, Service } from "./types/core.ts";
import type { KubeObject } from "./types/meta.ts";
import type { CronJob, Deployment, Job } from "./types/workloads.ts";

const nowMs = Date.parse("2024-05-01T12:00:00Z");
const ago = (seconds: number) => new Date(nowMs - seconds * 1000).toISOString().replace(".000Z", "Z");
const options = { nowMs };
const cells = (group: string, resource: string, object: KubeObject) => tableRow(group, resource, object, options).cells;

describe("Table documents", () => {
  test("a list table carries the columns, one row per item and the list's metadata", () => {
    const deployment: Deployment = {
      metadata: { name: "web", namespace: "d", creationTimestamp: ago(3600), resourceVersion: "7" },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: "web" } },
        template: { spec: { containers: [{ name: "nginx", image: "nginx:1.27" }, { name: "sidecar", image: "envoy" }] } },
      },
      status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    };
    const table = listTable("apps", "deployments", [deployment], { resourceVersion: "42", continue: "abc" }, options);
    expect(table.kind).toBe("Table");
    expect(table.apiVersion).toBe("meta.k8s.io/v1");
    expect(table.metadata).toEqual({ resourceVersion: "42", continue: "abc" });
    expect(table.columnDefinitions.map((column) => `${column.name}:${column.priority}`)).toEqual([
      "Name:0",
      "Ready:0",
      "Up-to-date:0",
      "Available:0",
      "Age:0",
      "Containers:1",
      "Images:1",
      "Selector:1",
    ]);
    expect(table.columnDefinitions[0]).toMatchObject({ name: "Name", type: "string", format: "name" });
    expect(table.rows[0]?.cells).toEqual(["web", "2/3", 3, 2, "60m", "nginx,sidecar", "nginx:1.27,envoy", "app=web"]);
    expect(table.rows[0]?.object).toEqual({ kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: deployment.metadata });
  });

  test("one object's table carries its resourceVersion; includeObject and noHeaders are honoured", () => {
    const object: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", resourceVersion: "9", creationTimestamp: ago(5) } };
    const whole = objectTable("", "configmaps", object, { nowMs, includeObject: "Object", noHeaders: true });
    expect(whole.metadata).toEqual({ resourceVersion: "9" });
    expect(whole.columnDefinitions).toEqual([]);
    expect(whole.rows[0]?.object).toBe(object);
    expect(objectTable("", "configmaps", object, { nowMs, includeObject: "None" }).rows[0]?.object).toBeNull();
  });

  test("resources without a printer get upstream's Name and Created At columns", () => {
    expect(tableColumns("rbac.authorization.k8s.io", "roles").map((column) => [column.name, column.type])).toEqual([
      ["Name", "string"],
      ["Created At", "date"],
    ]);
    expect(cells("rbac.authorization.k8s.io", "roles", { metadata: { name: "reader", creationTimestamp: "2024-04-01T10:00:00Z" } })).toEqual([
      "reader",
      "2024-04-01T10:00:00Z",
    ]);
    expect(cells("rbac.authorization.k8s.io", "roles", { metadata: { name: "x" } })).toEqual(["x", "0001-01-01T00:00:00Z"]);
  });
});

describe("rows per resource", () => {
  test("services show type, first cluster IP, external IPs and ports with node ports", () => {
    const service: Service = {
      metadata: { name: "web", creationTimestamp: ago(10) },
      spec: { type: "NodePort", clusterIPs: ["10.96.0.12"], ports: [{ port: 80, nodePort: 30080, protocol: "TCP" }, { port: 53, protocol: "UDP" }], selector: { app: "web" } },
    };
    expect(cells("", "services", service)).toEqual(["web", "NodePort", "10.96.0.12", "<none>", "80:30080/TCP,53/UDP", "10s", "app=web"]);
    const balancer: Service = { metadata: { name: "lb" }, spec: { type: "LoadBalancer", clusterIPs: ["10.96.0.13"] } };
    expect(cells("", "services", balancer).slice(3, 5)).toEqual(["<pending>", "<none>"]);
    const withIngress: Service = { ...balancer, status: { loadBalancer: { ingress: [{ ip: "192.168.1.9" }, { hostname: "a.example" }] } } };
    expect(cells("", "services", withIngress)[3]).toBe("192.168.1.9,a.example");
  });

  test("endpoints list three addresses, then the rest as a count", () => {
    const endpoints: Endpoints = {
      metadata: { name: "web" },
      subsets: [{ addresses: [{ ip: "10.0.0.1" }, { ip: "10.0.0.2" }, { ip: "fd00::3" }, { ip: "10.0.0.4" }], ports: [{ port: 8080 }] }],
    };
    expect(formatEndpoints(endpoints)).toBe("10.0.0.1:8080,10.0.0.2:8080,[fd00::3]:8080 + 1 more...");
    expect(formatEndpoints({ metadata: {} })).toBe("<none>");
  });

  test("nodes show readiness, scheduling, roles and the wide system columns", () => {
    const node: Node = {
      metadata: { name: "n1", creationTimestamp: ago(2 * 86400 + 3600), labels: { "node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "edge" } },
      spec: { unschedulable: true },
      status: {
        conditions: [{ type: "Ready", status: "True" }],
        addresses: [{ type: "InternalIP", address: "192.168.1.10" }],
        nodeInfo: { kubeletVersion: "v1.32.0-flotilla", osImage: "Debian GNU/Linux 12", kernelVersion: "6.1.0", containerRuntimeVersion: "containerd://1.7", machineID: "", systemUUID: "", bootID: "", kubeProxyVersion: "", operatingSystem: "linux", architecture: "arm64" },
      },
    };
    expect(cells("", "nodes", node)).toEqual([
      "n1",
      "Ready,SchedulingDisabled",
      "control-plane,edge",
      "2d1h",
      "v1.32.0-flotilla",
      "192.168.1.10",
      "<none>",
      "Debian GNU/Linux 12",
      "6.1.0",
      "containerd://1.7",
    ]);
    expect(cells("", "nodes", { metadata: { name: "n2" } }).slice(1, 3)).toEqual(["Unknown", "<none>"]);
  });

  test("events show last seen, object, source and count as upstream's wide printer", () => {
    const event: Event = {
      metadata: { name: "web.17a", namespace: "d" },
      involvedObject: { kind: "Pod", name: "web", fieldPath: "spec.containers{nginx}" },
      reason: "Pulled",
      message: "  Successfully pulled image \n",
      source: { component: "kubelet", host: "n1" },
      firstTimestamp: ago(300),
      lastTimestamp: ago(30),
      count: 4,
      type: "Normal",
      reportingComponent: "",
      reportingInstance: "",
    };
    expect(cells("", "events", event)).toEqual(["30s", "Normal", "Pulled", "pod/web", "spec.containers{nginx}", "kubelet, n1", "Successfully pulled image", "5m", 4, "web.17a"]);
    const singleton: Event = { metadata: { name: "e" }, involvedObject: { kind: "Node" }, eventTime: ago(5), reportingComponent: "flotilla-agent", reportingInstance: "" };
    expect(cells("", "events", singleton)).toEqual(["5s", "", "", "node", "", "flotilla-agent", "", "5s", 1, "e"]);
  });

  test("jobs show status, completions and duration; cron jobs their schedule", () => {
    const job: Job = {
      metadata: { name: "pi", creationTimestamp: ago(600) },
      spec: { completions: 3, template: { spec: { containers: [{ name: "pi", image: "perl" }] } }, selector: { matchLabels: { "job-name": "pi" } } },
      status: { succeeded: 3, startTime: ago(600), completionTime: ago(410), conditions: [{ type: "Complete", status: "True" }] },
    };
    expect(cells("batch", "jobs", job)).toEqual(["pi", "Complete", "3/3", "3m10s", "10m", "pi", "perl", "job-name=pi"]);
    const parallel: Job = { metadata: { name: "p" }, spec: { parallelism: 2, template: {} } };
    expect(cells("batch", "jobs", parallel).slice(1, 4)).toEqual(["Running", "0/1 of 2", ""]);
    const cron: CronJob = {
      metadata: { name: "backup", creationTimestamp: ago(86400) },
      spec: { schedule: "*/5 * * * *", jobTemplate: { spec: { template: {} } } },
      status: { active: [{ name: "backup-1" }], lastScheduleTime: ago(120) },
    };
    expect(cells("batch", "cronjobs", cron).slice(0, 7)).toEqual(["backup", "*/5 * * * *", "<none>", "<unset>", 1, "2m", "24h"]);
  });

  test("HPA targets read like upstream's, two at most", () => {
    const hpa: HorizontalPodAutoscaler = {
      metadata: { name: "web" },
      spec: {
        scaleTargetRef: { kind: "Deployment", name: "web" },
        maxReplicas: 10,
        metrics: [
          { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } },
          { type: "Resource", resource: { name: "memory", target: { type: "AverageValue", averageValue: "1024Mi" } } },
          { type: "Pods", pods: { metric: { name: "qps" }, target: { type: "AverageValue", averageValue: "10" } } },
        ],
      },
      status: { desiredReplicas: 2, currentReplicas: 2, currentMetrics: [{ type: "Resource", resource: { name: "cpu", current: { averageUtilization: 35 } } }] },
    };
    expect(cells("autoscaling", "horizontalpodautoscalers", hpa).slice(0, 6)).toEqual(["web", "Deployment/web", "cpu: 35%/80%, memory: <unknown>/1Gi + 1 more...", "<unset>", 10, 2]);
    expect(formatHpaMetrics(undefined, undefined)).toBe("<none>");
  });

  test("claims, quotas, storage classes, ingresses, slices and bindings", () => {
    const claim: PersistentVolumeClaim = {
      metadata: { name: "data" },
      spec: { volumeName: "pv1", storageClassName: "local", accessModes: ["ReadWriteOnce"] },
      status: { phase: "Bound", capacity: { storage: "10240Mi" }, accessModes: ["ReadWriteMany", "ReadWriteOnce"] },
    };
    expect(cells("", "persistentvolumeclaims", claim).slice(0, 7)).toEqual(["data", "Bound", "pv1", "10Gi", "RWO,RWX", "local", "<unset>"]);
    const quota: ResourceQuota = { metadata: { name: "q" }, status: { hard: { "limits.cpu": "2", "requests.cpu": "1", pods: "10" }, used: { "requests.cpu": "500m", pods: "3" } } };
    expect(cells("", "resourcequotas", quota).slice(0, 3)).toEqual(["q", "pods: 3/10, requests.cpu: 500m/1", "limits.cpu: 0/2"]);
    const storageClass: StorageClass = { metadata: { name: "local", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } }, provisioner: "flotilla.io/local" };
    expect(cells("storage.k8s.io", "storageclasses", storageClass).slice(0, 5)).toEqual(["local (default)", "flotilla.io/local", "Delete", "Immediate", false]);
    const ingress: Ingress = { metadata: { name: "i" }, spec: { rules: [{ host: "a" }, {}, { host: "b" }, { host: "c" }, { host: "d" }], tls: [{}] } };
    expect(cells("networking.k8s.io", "ingresses", ingress).slice(0, 5)).toEqual(["i", "<none>", "a,b,c + 2 more...", "", "80, 443"]);
    const slice: EndpointSlice = { metadata: { name: "s" }, addressType: "IPv4", endpoints: [{ addresses: ["10.0.0.1"] }], ports: [{ name: "http" }] };
    expect(cells("discovery.k8s.io", "endpointslices", slice).slice(0, 4)).toEqual(["s", "IPv4", "http", "10.0.0.1"]);
    const binding: RoleBinding = {
      metadata: { name: "b" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
      subjects: [
        { kind: "User", name: "ana" },
        { kind: "ServiceAccount", name: "ci", namespace: "tools" },
        { kind: "User", name: "bo" },
      ],
    };
    expect(cells("rbac.authorization.k8s.io", "rolebindings", binding)).toEqual(["b", "ClusterRole/view", "<unknown>", "ana, bo", "", "tools/ci"]);
  });
});
