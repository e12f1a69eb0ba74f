import { describe, expect, it } from "vitest";
import { allResources, apiVersionOf } from "../../libs/api/index.ts";
import { decodeProtobufObject, encodeProtobufObject, messageTypeFor, protobufMagic, ProtobufDecodeError } from "./protobuf.ts";

// A tiny independent encoder, so that the field numbers are checked against bytes written by
// hand (as Go writes them: non-pointer scalars are always on the wire, zero or not).
function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}
const bytesField = (number: number, value: Buffer | string): Buffer => {
  const payload = Buffer.from(value);
  return Buffer.concat([varint((number << 3) | 2), varint(payload.length), payload]);
};
const varintField = (number: number, value: number): Buffer => Buffer.concat([varint(number << 3), varint(value)]);
const mapEntry = (number: number, key: string, value: string | Buffer): Buffer => bytesField(number, Buffer.concat([bytesField(1, key), bytesField(2, value)]));

function envelope(apiVersion: string, kind: string, raw: Buffer): Buffer {
  const typeMeta = Buffer.concat([bytesField(1, apiVersion), bytesField(2, kind)]);
  return Buffer.concat([protobufMagic, bytesField(1, typeMeta), bytesField(2, raw), bytesField(3, ""), bytesField(4, "")]);
}

const podTemplate = {
  metadata: { labels: { app: "web" } },
  spec: {
    containers: [
      {
        name: "web",
        image: "flotilla/busybox:1",
        command: ["sh", "-c", "sleep 3600"],
        ports: [{ containerPort: 80, name: "http", protocol: "TCP" }],
        env: [{ name: "A", value: "1" }, { name: "B", valueFrom: { configMapKeyRef: { name: "cm", key: "k", optional: false } } }],
        envFrom: [{ secretRef: { name: "s" } }],
        resources: { limits: { cpu: "500m", memory: "128Mi" }, requests: { cpu: "100m" } },
        readinessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 5 },
        livenessProbe: { tcpSocket: { port: 80 }, initialDelaySeconds: 3 },
        volumeMounts: [{ name: "data", mountPath: "/data", readOnly: true }],
        securityContext: { runAsUser: 0, allowPrivilegeEscalation: false },
      },
    ],
    volumes: [
      { name: "data", persistentVolumeClaim: { claimName: "data" } },
      { name: "config", configMap: { name: "cm", defaultMode: 420, items: [{ key: "a", path: "a.txt" }] } },
      { name: "scratch", emptyDir: { sizeLimit: "1Gi" } },
    ],
    restartPolicy: "Always",
    terminationGracePeriodSeconds: 0,
    nodeSelector: { disk: "ssd" },
    tolerations: [{ key: "k", operator: "Exists", effect: "NoExecute", tolerationSeconds: 30 }],
    affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "web" } }, topologyKey: "kubernetes.io/hostname" }] } },
  },
};
const meta = (name: string, namespace?: string) => ({
  name,
  ...(namespace === undefined ? {} : { namespace }),
  labels: { app: "web" },
  annotations: { note: "x" },
  creationTimestamp: "2026-11-22T01:02:03Z",
  ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-1", uid: "u1", controller: true }],
});
const selector = { matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["a", "b"] }] };

/** One object per kind that kubectl's typed clients may send, with values of every wrapper type. */
const samples: readonly Record<string, unknown>[] = [
  { apiVersion: "v1", kind: "Namespace", metadata: meta("demo"), spec: { finalizers: ["kubernetes"] } },
  { apiVersion: "v1", kind: "ConfigMap", metadata: meta("cm", "demo"), data: { a: "b", empty: "" }, binaryData: { bin: "AAEC" }, immutable: false },
  { apiVersion: "v1", kind: "Secret", metadata: meta("s", "demo"), data: { password: Buffer.from("hunter2").toString("base64") }, type: "Opaque" },
  { apiVersion: "v1", kind: "ServiceAccount", metadata: meta("sa", "demo"), automountServiceAccountToken: false, imagePullSecrets: [{ name: "reg" }] },
  { apiVersion: "v1", kind: "Pod", metadata: meta("p", "demo"), spec: podTemplate.spec },
  { apiVersion: "v1", kind: "PodTemplate", metadata: meta("pt", "demo"), template: podTemplate },
  {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta("web", "demo"),
    spec: { type: "NodePort", selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP", nodePort: 30080 }], sessionAffinity: "None", internalTrafficPolicy: "Cluster" },
  },
  { apiVersion: "v1", kind: "Endpoints", metadata: meta("web", "demo"), subsets: [{ addresses: [{ ip: "10.244.0.5", nodeName: "n1", targetRef: { kind: "Pod", name: "p", namespace: "demo" } }], ports: [{ port: 80, protocol: "TCP" }] }] },
  {
    apiVersion: "v1",
    kind: "Event",
    metadata: meta("e", "demo"),
    involvedObject: { kind: "Pod", name: "p", namespace: "demo" },
    reason: "Scheduled",
    message: "assigned",
    source: { component: "scheduler" },
    firstTimestamp: "2026-11-22T01:02:03Z",
    count: 2,
    type: "Normal",
    eventTime: "2026-11-22T01:02:03.123456Z",
  },
  { apiVersion: "v1", kind: "Node", metadata: meta("n1"), spec: { podCIDR: "10.244.1.0/24", podCIDRs: ["10.244.1.0/24"], unschedulable: true, taints: [{ key: "k", effect: "NoSchedule", timeAdded: "2026-11-22T01:02:03Z" }] } },
  { apiVersion: "v1", kind: "PersistentVolume", metadata: meta("pv"), spec: { capacity: { storage: "10Gi" }, hostPath: { path: "/srv/pv", type: "DirectoryOrCreate" }, accessModes: ["ReadWriteOnce"], persistentVolumeReclaimPolicy: "Retain", storageClassName: "local" } },
  { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: meta("data", "demo"), spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, storageClassName: "", volumeMode: "Filesystem" } },
  { apiVersion: "v1", kind: "ResourceQuota", metadata: meta("q", "demo"), spec: { hard: { pods: "10", "requests.cpu": "4" } } },
  { apiVersion: "v1", kind: "LimitRange", metadata: meta("lr", "demo"), spec: { limits: [{ type: "Container", default: { cpu: "500m" }, defaultRequest: { cpu: "100m" } }] } },
  { apiVersion: "v1", kind: "Binding", metadata: meta("p", "demo"), target: { kind: "Node", name: "n1" } },
  {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta("web", "demo"),
    spec: { replicas: 0, selector, template: podTemplate, strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } }, revisionHistoryLimit: 10, paused: true },
  },
  { apiVersion: "v1", kind: "ReplicationController", metadata: meta("web-rc", "demo"), spec: { replicas: 2, minReadySeconds: 5, selector: { app: "web" }, template: podTemplate } },
  { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: meta("web-1", "demo"), spec: { replicas: 2, minReadySeconds: 5, selector, template: podTemplate } },
  {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: meta("db", "demo"),
    spec: { replicas: 3, serviceName: "db", selector, template: podTemplate, volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }], updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } } },
  },
  { apiVersion: "apps/v1", kind: "DaemonSet", metadata: meta("agent", "demo"), spec: { selector, template: podTemplate, updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } } } },
  { apiVersion: "apps/v1", kind: "ControllerRevision", metadata: meta("web-abc", "demo"), data: { spec: { template: { metadata: { labels: { app: "web" } } } } }, revision: 3 },
  { apiVersion: "batch/v1", kind: "Job", metadata: meta("once", "demo"), spec: { completions: 1, parallelism: 1, backoffLimit: 0, suspend: false, template: { ...podTemplate, spec: { ...podTemplate.spec, restartPolicy: "Never" } } } },
  {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: meta("tick", "demo"),
    spec: { schedule: "*/5 * * * *", timeZone: "Etc/UTC", concurrencyPolicy: "Forbid", suspend: false, jobTemplate: { metadata: { name: "tick" }, spec: { template: podTemplate } }, successfulJobsHistoryLimit: 3 },
  },
  { apiVersion: "autoscaling/v1", kind: "HorizontalPodAutoscaler", metadata: meta("web", "demo"), spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" }, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 80 } },
  {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: meta("web", "demo"),
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
      maxReplicas: 5,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
      behavior: { scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: "Pods", value: 1, periodSeconds: 60 }] } },
    },
  },
  {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: meta("web", "demo"),
    spec: { ingressClassName: "nginx", tls: [{ hosts: ["a.example"], secretName: "tls" }], rules: [{ host: "a.example", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } }] } }] },
  },
  { apiVersion: "networking.k8s.io/v1", kind: "IngressClass", metadata: meta("nginx"), spec: { controller: "k8s.io/ingress-nginx", parameters: { apiGroup: "k8s.example.com", kind: "P", name: "p" } } },
  { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: meta("leader", "demo"), spec: { holderIdentity: "a", leaseDurationSeconds: 15, renewTime: "2026-11-22T01:02:03.500000Z", leaseTransitions: 0 } },
  {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: meta("web-x", "demo"),
    addressType: "IPv4",
    endpoints: [{ addresses: ["10.244.0.5"], conditions: { ready: true, serving: true, terminating: false }, nodeName: "n1" }],
    ports: [{ name: "", port: 80, protocol: "TCP" }],
  },
  { apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: meta("local"), provisioner: "flotilla.io/local", reclaimPolicy: "Delete", volumeBindingMode: "WaitForFirstConsumer", allowVolumeExpansion: false },
  { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: meta("web", "demo"), spec: { minAvailable: "50%", selector } },
  { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: meta("reader", "demo"), rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }] },
  { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: meta("admin"), rules: [{ nonResourceURLs: ["/healthz"], verbs: ["get"] }], aggregationRule: { clusterRoleSelectors: [selector] } },
  {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: meta("read", "demo"),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "reader" },
    subjects: [{ kind: "ServiceAccount", name: "sa", namespace: "demo" }],
  },
  {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: meta("admins"),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "admin" },
    subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "alice" }],
  },
];

describe("protobuf bodies", () => {
  it("has a message for every kind in libs/api's registry", () => {
    const missing = allResources()
      .filter((resource) => resource.stored)
      .map((resource) => `${apiVersionOf(resource)} ${resource.kind}`)
      .filter((name) => {
        const [apiVersion = "", kind = ""] = name.split(" ");
        return messageTypeFor(apiVersion, kind) === undefined;
      });
    expect(missing).toEqual([]);
  });

  it("has a message for every subresource body kind the registry names (Scale, Eviction, TokenRequest)", () => {
    const bodies = allResources().flatMap((resource) => resource.subresources.filter((subresource) => subresource.group !== undefined));
    for (const body of bodies) expect(messageTypeFor(`${body.group ?? ""}/${body.version ?? ""}`, body.kind), body.kind).toBeDefined();
    const token = { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", metadata: { name: "robot" }, spec: { audiences: ["api"], expirationSeconds: 600, boundObjectRef: { kind: "Pod", name: "p", uid: "u1" } } };
    expect(decodeProtobufObject(encodeProtobufObject(token))).toEqual(token);
    const eviction = { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "p", namespace: "demo" }, deleteOptions: { gracePeriodSeconds: 0 } };
    expect(decodeProtobufObject(encodeProtobufObject(eviction))).toEqual(eviction);
  });

  it("round-trips a sample of every stored kind through the wire form", () => {
    const sampled = new Set(samples.map((sample) => `${String(sample["apiVersion"])} ${String(sample["kind"])}`));
    for (const resource of allResources().filter((candidate) => candidate.stored)) expect(sampled).toContain(`${apiVersionOf(resource)} ${resource.kind}`);
    for (const sample of samples) expect(decodeProtobufObject(encodeProtobufObject(sample)), `${String(sample["kind"])}`).toEqual(sample);
  });

  it("reads hand-written bytes: labels, a Secret's bytes as base64, spec finalizers", () => {
    const metadata = Buffer.concat([bytesField(1, "demo"), bytesField(2, ""), mapEntry(11, "team", "a"), mapEntry(12, "note", "x")]);
    const raw = Buffer.concat([bytesField(1, metadata), bytesField(2, bytesField(1, "kubernetes"))]);
    expect(decodeProtobufObject(envelope("v1", "Namespace", raw))).toEqual({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "demo", labels: { team: "a" }, annotations: { note: "x" } },
      spec: { finalizers: ["kubernetes"] },
    });
    const secret = Buffer.concat([bytesField(1, bytesField(1, "s")), mapEntry(2, "p", Buffer.from([0xff, 0x00])), bytesField(3, "Opaque")]);
    expect(decodeProtobufObject(envelope("v1", "Secret", secret))).toEqual({ apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data: { p: "/wA=" }, type: "Opaque" });
  });

  it("drops zero non-pointer scalars as Go's omitempty does, and keeps a zero pointer (replicas: 0)", () => {
    // DeploymentSpec: replicas 1 (pointer), minReadySeconds 5 and paused 7 (plain, always written by Go).
    const spec = Buffer.concat([varintField(1, 0), varintField(5, 0), varintField(7, 0)]);
    const raw = Buffer.concat([bytesField(1, bytesField(1, "web")), bytesField(2, spec)]);
    expect(decodeProtobufObject(envelope("apps/v1", "Deployment", raw))).toEqual({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" }, spec: { replicas: 0 } });
  });

  it("reads IntOrString, Quantity and Time wrappers", () => {
    // ServicePort: port 3, targetPort 4 (IntOrString type 1 = string); ServiceSpec ports 1.
    const port = Buffer.concat([varintField(3, 80), bytesField(4, Buffer.concat([varintField(1, 1), varintField(2, 0), bytesField(3, "http")]))]);
    const raw = Buffer.concat([bytesField(1, Buffer.concat([bytesField(1, "svc"), bytesField(8, varintField(1, 1_700_000_000))])), bytesField(2, bytesField(1, port))]);
    expect(decodeProtobufObject(envelope("v1", "Service", raw))).toEqual({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "svc", creationTimestamp: "2023-11-14T22:13:20Z" },
      spec: { ports: [{ port: 80, targetPort: "http" }] },
    });
  });

  it("returns undefined for kinds without a message, and throws on bad bytes", () => {
    expect(decodeProtobufObject(envelope("example.com/v1", "Widget", bytesField(1, bytesField(1, "w"))))).toBeUndefined();
    expect(() => decodeProtobufObject(Buffer.from("{}"))).toThrow(ProtobufDecodeError);
    expect(() => decodeProtobufObject(Buffer.concat([protobufMagic, Buffer.from([0x0a, 0x20, 0x01])]))).toThrow(ProtobufDecodeError);
    const badRaw = envelope("apps/v1", "ControllerRevision", Buffer.concat([bytesField(1, bytesField(1, "r")), bytesField(2, bytesField(1, "not json"))]));
    expect(() => decodeProtobufObject(badRaw)).toThrow(ProtobufDecodeError);
  });
});
