import { describe, expect, test } from "vitest";
import { defaultObject } from "../defaults/index.ts";
import { errorString } from "../field-errors.ts";
import type { HorizontalPodAutoscaler, Ingress, Lease } from "../types/cluster.ts";
import type { ConfigMap, Namespace, Node, PersistentVolumeClaim, PersistentVolumeClaimSpec, Secret, Service } from "../types/core.ts";
import type { KubeObject } from "../types/meta.ts";
import type { Pod, Volume } from "../types/pod.ts";
import { isCIDR, isIP } from "./ip.ts";
import { validateObject, validateObjectUpdate } from "./validate-object.ts";

function messages(object: KubeObject): string[] {
  return validateObject(defaultObject(object)).map(errorString);
}

function service(spec: NonNullable<Service["spec"]>): Service {
  return { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default" }, spec };
}

describe("Service validation", () => {
  test("a ClusterIP service with one unnamed port is valid", () => {
    expect(messages(service({ selector: { app: "web" }, ports: [{ port: 80 }] }))).toEqual([]);
  });

  test("ports are required unless the service is headless or ExternalName", () => {
    expect(messages(service({ selector: { app: "web" } }))).toEqual(["spec.ports: Required value"]);
    expect(messages(service({ clusterIP: "None", selector: { app: "web" } }))).toEqual([]);
    expect(messages(service({ type: "ExternalName", externalName: "db.example.com" }))).toEqual([]);
  });

  test("several ports need unique names; port numbers must be in range", () => {
    expect(messages(service({ ports: [{ port: 80, name: "http" }, { port: 0 }, { port: 443, name: "http" }] }))).toEqual([
      "spec.ports[1].name: Required value",
      "spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
      "spec.ports[1].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
      'spec.ports[2].name: Duplicate value: "http"',
    ]);
  });

  test("node ports must be in 30000-32767 and are forbidden on ClusterIP services", () => {
    expect(messages(service({ type: "NodePort", ports: [{ port: 80, nodePort: 8080 }] }))).toEqual([
      "spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767",
    ]);
    expect(messages(service({ ports: [{ port: 80, nodePort: 30080 }] }))).toEqual(["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]);
  });

  test("an unknown type and a bad cluster IP are refused", () => {
    expect(messages(service({ type: "Internal" as "ClusterIP", clusterIP: "10.0.0.300", ports: [{ port: 80 }] }))).toEqual([
      'spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
      'spec.clusterIPs[0]: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ]);
  });

  test("selector labels are validated", () => {
    expect(messages(service({ selector: { app: "bad value!" }, ports: [{ port: 80 }] }))[0]).toMatch(/^spec\.selector: Invalid value: "bad value!": a valid label must be/);
  });

  test("the cluster IP may not change once set", () => {
    const old = defaultObject(service({ clusterIP: "10.96.0.10", ports: [{ port: 80 }] }));
    old.metadata.resourceVersion = "3";
    const next = structuredClone(old);
    next.spec!.clusterIP = "10.96.0.11";
    next.spec!.clusterIPs = ["10.96.0.11"];
    expect(validateObjectUpdate(next, old).map(errorString)).toEqual(['spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set']);
    const same = structuredClone(old);
    expect(validateObjectUpdate(same, old)).toEqual([]);
  });

  test("a service name must be a DNS-1035 label", () => {
    const object = service({ ports: [{ port: 80 }] });
    object.metadata.name = "1web";
    expect(messages(object)[0]).toMatch(/^metadata\.name: Invalid value: "1web": a DNS-1035 label must consist/);
  });
});

describe("ConfigMap and Secret validation", () => {
  test("keys must be config keys and binaryData may not repeat a data key", () => {
    const configMap: ConfigMap = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c", namespace: "default" },
      data: { "good.key": "1", "bad key": "2" },
      binaryData: { "good.key": "AA==" },
    };
    expect(messages(configMap)).toEqual([
      "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
      'binaryData[good.key]: Invalid value: "good.key": duplicate of key present in data',
    ]);
  });

  test("a ConfigMap above 1 MiB is too long", () => {
    const configMap: ConfigMap = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "default" }, data: { big: "x".repeat(1024 * 1024 + 1) } };
    expect(messages(configMap)).toEqual([": Too long: may not be more than 1048576 bytes"]);
  });

  test("an immutable ConfigMap's data may not change, nor may it become mutable", () => {
    const old: ConfigMap = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "default", resourceVersion: "1" }, immutable: true, data: { a: "1" } };
    const next: ConfigMap = { ...old, immutable: false, data: { a: "2" } };
    expect(validateObjectUpdate(next, old).map(errorString)).toEqual([
      "immutable: Forbidden: field is immutable when `immutable` is set",
      "data: Forbidden: field is immutable when `immutable` is set",
    ]);
    expect(validateObjectUpdate({ ...old, immutable: false, data: { a: "2" } }, { ...old, immutable: false })).toEqual([]);
  });

  test("a TLS Secret needs its certificate and key, and a Secret's type may not change", () => {
    const secret: Secret = { apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "default" }, type: "kubernetes.io/tls", data: { "tls.crt": "AA==" } };
    expect(messages(secret)).toEqual(["data[tls.key]: Required value"]);
    const old = defaultObject<Secret>({ apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "default", resourceVersion: "1" } });
    expect(validateObjectUpdate({ ...old, type: "kubernetes.io/basic-auth", data: { username: "YQ==" } }, old).map(errorString)).toEqual([
      'type: Invalid value: "kubernetes.io/basic-auth": field is immutable',
    ]);
  });
});

describe("other core objects", () => {
  test("a PVC needs an access mode and a positive storage request", () => {
    const claim: PersistentVolumeClaim = { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "data", namespace: "default" }, spec: { resources: { requests: { storage: "0" } } } };
    expect(messages(claim)).toEqual([
      "spec.accessModes: Required value: at least 1 access mode is required",
      'spec.resources[storage]: Invalid value: "0": must be greater than zero',
    ]);
  });

  test("a PVC spec may change only its storage request", () => {
    const old = defaultObject<PersistentVolumeClaim>({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data", namespace: "default", resourceVersion: "1" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    });
    const grown = structuredClone(old);
    grown.spec!.resources!.requests!["storage"] = "2Gi";
    expect(validateObjectUpdate(grown, old)).toEqual([]);
    const reclassed = structuredClone(old);
    reclassed.spec!.storageClassName = "fast";
    expect(validateObjectUpdate(reclassed, old).map((error) => error.field)).toEqual(["spec"]);
  });

  test("a PVC's volumeName may be set once by the binder and never changed after", () => {
    const unbound = defaultObject<PersistentVolumeClaim>({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data", namespace: "default", resourceVersion: "1" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    });
    const bound = structuredClone(unbound);
    bound.spec!.volumeName = "pvc-1";
    expect(validateObjectUpdate(bound, unbound)).toEqual([]);
    const rebound = structuredClone(bound);
    rebound.spec!.volumeName = "pvc-2";
    expect(validateObjectUpdate(rebound, bound).map((error) => error.field)).toEqual(["spec"]);
  });

  test("a Namespace is cluster-scoped and named by a DNS label", () => {
    const namespace: Namespace = { apiVersion: "v1", kind: "Namespace", metadata: { name: "team.a", namespace: "default" } };
    expect(messages(namespace).map((message) => message.split(":")[0])).toEqual(["metadata.name", "metadata.namespace"]);
  });

  test("a Node's pod CIDR and taints are checked", () => {
    const node: Node = {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "node-1" },
      spec: { podCIDR: "10.244.0.0/33", taints: [{ key: "dedicated", effect: "Sometimes" as "NoSchedule" }] },
    };
    expect(messages(node)).toEqual([
      'spec.podCIDR: Invalid value: "10.244.0.0/33": must be a valid CIDR',
      'spec.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoExecute", "NoSchedule", "PreferNoSchedule"',
    ]);
  });

  test("a Lease needs a positive duration", () => {
    const lease: Lease = { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "l", namespace: "kube-system" }, spec: { leaseDurationSeconds: 0 } };
    expect(messages(lease)).toEqual(["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"]);
  });

  test("an Ingress path needs a pathType, an absolute path and a backend port", () => {
    const ingress: Ingress = {
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: { name: "i", namespace: "default" },
      spec: { rules: [{ host: "*.example.com", http: { paths: [{ path: "api", pathType: "Prefix", backend: { service: { name: "api" } } }, { path: "/", backend: { service: { name: "web", port: { number: 80 } } } } as never] } }] },
    };
    expect(messages(ingress)).toEqual([
      'spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path',
      "spec.rules[0].http.paths[0].backend.service.port: Required value: port name or number is required",
      "spec.rules[0].http.paths[1].pathType: Required value: pathType must be specified",
    ]);
  });

  test("an HPA needs minReplicas <= maxReplicas", () => {
    const autoscaler: HorizontalPodAutoscaler = {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "h", namespace: "default" },
      spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" }, minReplicas: 5, maxReplicas: 3 },
    };
    expect(messages(autoscaler)).toEqual(["spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`"]);
  });

  test("an unknown kind is checked for metadata only", () => {
    const widget = { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "Bad_Name", labels: { ok: "yes" } }, spec: { anything: true } };
    expect(messages(widget).map((message) => message.split(":")[0])).toEqual(["metadata.name"]);
    expect(messages({ ...widget, metadata: { name: "good" } })).toEqual([]);
  });

  test("a Pod update may change images but not other spec fields; identity fields are immutable", () => {
    const old = defaultObject<Pod>({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", namespace: "default", uid: "u1", resourceVersion: "1" },
      spec: { containers: [{ name: "app", image: "app:1" }] },
    });
    const newImage = structuredClone(old);
    newImage.spec!.containers[0]!.image = "app:2";
    expect(validateObjectUpdate(newImage, old)).toEqual([]);
    const moved = structuredClone(old);
    moved.spec!.nodeName = "node-2";
    moved.metadata.uid = "u2";
    expect(validateObjectUpdate(moved, old).map((error) => `${error.field} ${error.type}`)).toEqual(["metadata.uid FieldValueInvalid", "spec FieldValueForbidden"]);
  });

  test("a Pod volume needs exactly one source and a unique name", () => {
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", namespace: "default" },
      spec: { volumes: [{ name: "a", emptyDir: {}, hostPath: { path: "/x" } }, { name: "a", emptyDir: {} }], containers: [{ name: "app", image: "app:1" }] },
    };
    expect(messages(pod)).toEqual(["spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type", 'spec.volumes[1].name: Duplicate value: "a"']);
  });

  test("an ephemeral volume needs a claim template with a valid claim spec and only labels and annotations", () => {
    const withEphemeral = (ephemeral: NonNullable<Volume["ephemeral"]>): Pod => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", namespace: "default" },
      spec: { volumes: [{ name: "scratch", ephemeral }], containers: [{ name: "app", image: "app:1" }] },
    });
    const spec: PersistentVolumeClaimSpec = { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } };
    expect(messages(withEphemeral({ volumeClaimTemplate: { metadata: { labels: { app: "p" }, creationTimestamp: null }, spec } }))).toEqual([]);
    expect(messages(withEphemeral({}))).toEqual(["spec.volumes[0].ephemeral.volumeClaimTemplate: Required value"]);
    expect(messages(withEphemeral({ volumeClaimTemplate: { metadata: { name: "mine", labels: { "bad key!": "x" } }, spec: { ...spec, accessModes: [] } } }))).toEqual([
      expect.stringContaining("spec.volumes[0].ephemeral.volumeClaimTemplate.metadata.labels: Invalid value: \"bad key!\""),
      "spec.volumes[0].ephemeral.volumeClaimTemplate.metadata.name: Forbidden: cannot be set for an ephemeral volume",
      "spec.volumes[0].ephemeral.volumeClaimTemplate.spec.accessModes: Required value: at least 1 access mode is required",
    ]);
  });
});

describe("pod details", () => {
  function pod(spec: NonNullable<Pod["spec"]>): Pod {
    return { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default" }, spec };
  }

  test("a subPath must be relative, reported at the list's path as upstream does", () => {
    const object = pod({ volumes: [{ name: "data" }], containers: [{ name: "app", image: "app:1", volumeMounts: [{ name: "data", mountPath: "/d", subPath: "../up" }] }] });
    expect(messages(object)).toEqual([`spec.containers[0].volumeMounts.subPath: Invalid value: "../up": must not contain '..'`]);
  });

  test("init containers may carry probes only as sidecars, and liveness needs successThreshold 1", () => {
    const object = pod({
      initContainers: [{ name: "init", image: "init:1", readinessProbe: { exec: { command: ["true"] } } }],
      containers: [{ name: "app", image: "app:1", livenessProbe: { tcpSocket: { port: "http" }, successThreshold: 2 } }],
    });
    expect(messages(object)).toEqual([
      "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
      "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
    ]);
  });

  test("an init container may not share a name with a regular one", () => {
    const object = pod({ initContainers: [{ name: "app", image: "init:1" }], containers: [{ name: "app", image: "app:1" }] });
    expect(messages(object)).toEqual(['spec.initContainers[0].name: Duplicate value: "app"']);
  });

  test("restartPolicy and dnsPolicy take upstream's values only", () => {
    const object = pod({ restartPolicy: "Sometimes" as "Always", dnsPolicy: "" as "ClusterFirst", containers: [{ name: "app", image: "app:1" }] });
    expect(messages(object)).toEqual([
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
      "spec.dnsPolicy: Required value",
    ]);
  });

  test("an extended resource must be an integer and its request equal its limit", () => {
    const object = pod({ containers: [{ name: "app", image: "app:1", resources: { limits: { "example.com/gpu": "2" }, requests: { "example.com/gpu": "1", memory: "-1Gi" } } }] });
    expect(messages(object)).toEqual([
      'spec.containers[0].resources.requests: Invalid value: "1": must be equal to example.com/gpu limit of 2',
      'spec.containers[0].resources.requests[memory]: Invalid value: "-1Gi": must be greater than or equal to 0',
    ]);
  });

  test("a Pod without containers is refused", () => {
    expect(messages(pod({ containers: [] }))).toEqual(["spec.containers: Required value"]);
  });
});

describe("IP syntax", () => {
  test.each(["10.0.0.1", "255.255.255.255", "::1", "2001:db8::ffff", "fe80::1:2:3:4", "::ffff:10.0.0.1", "1:2:3:4:5:6:7:8"])("%s is an IP", (text) => {
    expect(isIP(text)).toBe(true);
  });
  test.each(["10.0.0", "256.0.0.1", "010.0.0.1", "1::2::3", "1:2:3:4:5:6:7:8:9", "abc", ""])("%s is not an IP", (text) => {
    expect(isIP(text)).toBe(false);
  });
  test("CIDRs need a prefix within the family's width", () => {
    expect(isCIDR("10.0.0.0/8")).toBe(true);
    expect(isCIDR("fd00::/64")).toBe(true);
    expect(isCIDR("10.0.0.0/33")).toBe(false);
    expect(isCIDR("10.0.0.0")).toBe(false);
  });
});
